/** At most `limit` holders at once; the rest wait in arrival order (Prometheus's read gate). */
export class Gate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  /** Resolves with the function that gives the slot back (once; later calls do nothing). */
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next !== undefined) next(); // the slot passes to the next waiter
      else this.active--;
    };
  }
}
