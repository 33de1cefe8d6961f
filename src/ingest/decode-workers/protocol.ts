import type { ErrorType } from '../../errors.js';
import type { ScannedWriteV1 } from '../remote-write/scan-v1.js';

export type RemoteWriteVersion = '1.0' | '2.0';

/** A compressed remote write body for a decode worker. */
export interface DecodeJob {
  readonly kind: 'decode';
  readonly id: number;
  readonly version: RemoteWriteVersion;
  readonly body: Uint8Array;
  readonly maxDecodedBytes: number;
}

/** Buffers of earlier replies that the main thread has finished with, back to the worker that made them. */
export interface RecycleBuffers {
  readonly kind: 'recycle';
  readonly buffers: ArrayBuffer[];
}

export type WorkerMessage = DecodeJob | RecycleBuffers;

/**
 * A worker's answer. `decompressed` asks the main thread to decode the bytes itself: remote
 * write 2.0 (its symbol table makes the labels strings anyway), and 1.0 bodies the scan could
 * not describe or found malformed, so that the error is the one the main thread would report.
 */
export type DecodeReply =
  | {
      readonly id: number;
      readonly kind: 'scanned';
      readonly scan: ScannedWriteV1;
      /** Per series the worker's id for its label bytes (WorkerLabelIds), of this generation. */
      readonly labelIds: Uint32Array;
      readonly labelGeneration: number;
      /** Bytes the worker's buffer pool has allocated so far (it stops growing while buffers come back). */
      readonly allocatedBytes: number;
    }
  | { readonly id: number; readonly kind: 'decompressed'; readonly body: Uint8Array; readonly allocatedBytes: number }
  | { readonly id: number; readonly kind: 'refused'; readonly errorType: ErrorType; readonly message: string }
  | { readonly id: number; readonly kind: 'failed'; readonly message: string };

/**
 * The ArrayBuffers a reply carries (each once): moved to the main thread with it, and moved back
 * with RecycleBuffers when the request is done with them.
 */
export function replyBuffers(reply: DecodeReply): ArrayBuffer[] {
  switch (reply.kind) {
    case 'scanned': {
      const { scan } = reply;
      return [scan.body, scan.series, scan.timestamps, scan.valueBytes, reply.labelIds].map((a) => a.buffer as ArrayBuffer);
    }
    case 'decompressed':
      return [reply.body.buffer as ArrayBuffer];
    default:
      return [];
  }
}

/** The bytes of a view in an ArrayBuffer of their own (copied when they share one), so it can be transferred. */
export function ownedBytes(view: Uint8Array): Uint8Array {
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) return view;
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}
