import { expect } from 'chai';
import { Head } from '../../src/storage/head.js';
import { decodeChunkKey, makeSeq, windowStartOfMs } from '../../src/storage/keys.js';

const T0 = 1_700_000_000_000;

function appendOne(head: Head, sid: bigint, t: number, v: number): void {
  head.append(head.getOrCreate(sid), [t], new Float64Array([v]), t);
}

describe('storage/head changed chunks', () => {
  it('hands out each changed chunk once per change, whatever the number of appends', () => {
    const head = new Head(1n, 1);
    for (let i = 0; i < 5; i++) {
      appendOne(head, 1n, T0 + i * 15_000, i);
      appendOne(head, 2n, T0 + i * 15_000, i);
    }
    const first = head.takeChanged(true);
    expect(first.map((s) => s.chunk.series.sid)).to.deep.equal([1n, 2n]);
    expect(first.every((s) => !s.chunk.queued)).to.equal(true);
    expect(head.hasChanges(true)).to.equal(false);
    head.committed(first);
    appendOne(head, 2n, T0 + 5 * 15_000, 5);
    appendOne(head, 2n, T0 + 6 * 15_000, 6);
    const second = head.takeChanged(true);
    expect(second.map((s) => [s.chunk.series.sid, s.chunk.numSamples])).to.deep.equal([[2n, 7]]);
    expect(head.takeChanged(true)).to.deep.equal([]);
  });

  it('queues a failed snapshot again once, and not a chunk already queued', () => {
    const head = new Head(1n, 1);
    appendOne(head, 1n, T0, 1);
    const taken = head.takeChanged(true);
    appendOne(head, 1n, T0 + 15_000, 2); // queued again by the append
    head.failed(taken);
    head.failed(taken);
    const retry = head.takeChanged(true);
    expect(retry).to.have.length(1);
    expect(retry[0]!.chunk.numSamples).to.equal(2);
    head.committed(retry);
    head.failed(taken); // an older snapshot failing after a newer one was saved queues nothing
    expect(head.hasChanges(true)).to.equal(false);
  });

  it('keeps closed chunks queued for a closed-only take, open ones for the next full take', () => {
    const head = new Head(1n, 1);
    appendOne(head, 1n, T0, 1);
    appendOne(head, 2n, T0, 1);
    head.close(head.get(1n)!.chunks[0]!);
    expect(head.takeChanged(false).map((s) => s.chunk.series.sid)).to.deep.equal([1n]);
    const open = head.get(2n)!.chunks[0]!;
    expect(open.queued).to.equal(true);
    appendOne(head, 2n, T0 + 15_000, 2);
    expect(head.takeChanged(true).map((s) => s.chunk.series.sid)).to.deep.equal([2n]);
  });

  it('counts each closed chunk waiting for the KV once, until a take hands it out or a failure returns it', () => {
    const head = new Head(1n, 1);
    appendOne(head, 1n, T0, 1);
    appendOne(head, 2n, T0, 1);
    head.takeChanged(true);
    head.close(head.get(1n)!.chunks[0]!); // closed after its last take: queued again, closed
    appendOne(head, 2n, T0 + 15_000, 2);
    head.close(head.get(2n)!.chunks[0]!); // closed while queued as open
    head.close(head.get(2n)!.chunks[0]!); // a second close changes nothing
    expect(head.closedWaiting).to.equal(2);
    for (let i = 0; i < 121; i++) appendOne(head, 3n, T0 + i * 15_000, i); // the 121st sample cuts the first chunk
    expect(head.closedWaiting).to.equal(3);
    const closed = head.takeChanged(false);
    expect(closed).to.have.length(3);
    expect(head.closedWaiting).to.equal(0);
    head.failed(closed);
    expect(head.closedWaiting).to.equal(3);
    head.committed(head.takeChanged(false));
    expect(head.closedWaiting).to.equal(0);
    expect(head.hasChanges(false)).to.equal(false);
  });

  it('makes each chunk key from the series, window, writer and sequence, and drops a saved chunk from its series', () => {
    const head = new Head(7n, 3);
    appendOne(head, 5n, T0, 1);
    const sh = head.get(5n)!;
    const first = sh.chunks[0]!;
    head.close(first);
    appendOne(head, 5n, T0 + 15_000, 2);
    expect(sh.chunks).to.have.length(2);
    const second = sh.chunks[1]!;
    expect(decodeChunkKey(head.chunkKey(first))).to.deep.equal({ sid: 5n, windowStartMs: windowStartOfMs(T0), writer: 7n, seq: makeSeq(3, 0) });
    expect(decodeChunkKey(head.chunkKey(second)).seq).to.equal(makeSeq(3, 1));
    expect(head.readKey(second)).to.deep.equal(head.chunkKey(second));
    expect(head.readKey(second)).to.equal(head.readKey(second));
    head.committed(head.takeChanged(false));
    expect(sh.chunks).to.deep.equal([second]);
    head.close(second);
    head.committed(head.takeChanged(false));
    expect(sh.chunks).to.deep.equal([]);
    expect(sh.detached).to.equal(true);
    expect(head.get(5n)).to.equal(undefined);
  });
});
