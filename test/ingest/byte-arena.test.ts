import { expect } from 'chai';
import { ByteArena } from '../../src/ingest/byte-arena.js';

describe('ingest/byte arena', () => {
  it('finds every stored string equal to its bytes, and no other, across growth', () => {
    const arena = new ByteArena(8);
    const strings = Array.from({ length: 200 }, (_, i) => new TextEncoder().encode(`series-${i}-${'x'.repeat(i % 17)}`));
    const at = strings.map((s) => arena.add(s, 0, s.length));
    expect(arena.sizeBytes).to.equal(strings.reduce((n, s) => n + s.length, 0));
    for (let i = 0; i < strings.length; i++) {
      const s = strings[i]!;
      expect(arena.equals(at[i]!, s.length, s, 0, s.length)).to.equal(true);
      const other = strings[(i + 1) % strings.length]!;
      expect(arena.equals(at[i]!, s.length, other, 0, other.length)).to.equal(false);
    }
  });

  it('copies a range of a buffer the caller then overwrites', () => {
    const arena = new ByteArena(4);
    const request = new Uint8Array([9, 1, 2, 3, 9]);
    const at = arena.add(request, 1, 4);
    request.fill(0);
    expect(arena.equals(at, 3, new Uint8Array([1, 2, 3]), 0, 3)).to.equal(true);
    expect(arena.equals(at, 3, new Uint8Array([1, 2, 4]), 0, 3)).to.equal(false);
    expect(arena.equals(at, 3, new Uint8Array([1, 2]), 0, 2)).to.equal(false);
  });

  it('grows from an empty buffer', () => {
    const arena = new ByteArena(0);
    const bytes = new Uint8Array([1, 2, 3]);
    const at = arena.add(bytes, 0, 3);
    expect(arena.equals(at, 3, bytes, 0, 3)).to.equal(true);
  });
});
