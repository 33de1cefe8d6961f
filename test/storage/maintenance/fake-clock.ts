import type { Clock } from '../../../src/storage/maintenance/clock.js';

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  constructor(private currentMs: number) {}

  nowMs(): number {
    return this.currentMs;
  }

  advance(ms: number): void {
    this.currentMs += ms;
  }

  set(ms: number): void {
    this.currentMs = ms;
  }
}
