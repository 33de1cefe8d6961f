import { expect } from 'chai';
import { MetricstorError } from '../../src/errors.js';
import { compareBytes, concat, prefixEnd, toHex } from '../../src/kv/bytes.js';
import type { KvEntry, KvOp, KvStore } from '../../src/kv/kv.js';

/** Whether a backend offers `writeGeneration`: only one that sees every writer of its data may. */
export type WriteGenerationSupport = 'offered' | 'absent';

/**
 * The KvStore contract (see src/kv/kv.ts), run against every backend. `open` returns a fresh,
 * empty store for each test; `cleanup` runs after the store is closed.
 */
export function kvContract(
  name: string,
  open: () => Promise<KvStore>,
  cleanup: () => Promise<void> = async () => {},
  writeGeneration: WriteGenerationSupport = 'offered',
): void {
  describe(`KvStore contract: ${name}`, () => {
    let kv: KvStore;
    let closed = false;

    beforeEach(async () => {
      kv = await open();
      closed = false;
    });

    afterEach(async () => {
      if (!closed) await kv.close();
      await cleanup();
    });

    describe('get and getMany', () => {
      it('returns null for an absent key and the value for a present one', async () => {
        expect(await kv.get(b(1, 2))).to.equal(null);
        await kv.batch([put(b(1, 2), b(9, 8, 7))]);
        expect(hex(await kv.get(b(1, 2)))).to.equal('090807');
        expect(await kv.get(b(1))).to.equal(null);
        expect(await kv.get(b(1, 2, 0))).to.equal(null);
      });

      it('stores empty values as present, distinct from absent', async () => {
        await kv.batch([put(b(5), new Uint8Array(0))]);
        const v = await kv.get(b(5));
        expect(v).to.be.instanceOf(Uint8Array);
        expect(v!.length).to.equal(0);
        const page = await kv.scan({ start: b(5), end: b(6) });
        expect(page.entries.map((e) => hex(e.value))).to.deep.equal(['']);
      });

      it('keeps every byte of binary and large values', async () => {
        const binary = b(0, 255, 0, 0, 128, 127, 0);
        const large = new Uint8Array(64 * 1024).map((_, i) => (i * 31 + 7) & 0xff);
        await kv.batch([put(b(1), binary), put(b(2), large)]);
        expect(hex(await kv.get(b(1)))).to.equal(hex(binary));
        expect(hex(await kv.get(b(2)))).to.equal(hex(large));
      });

      it('getMany answers in key order with null for absent keys, duplicates included', async () => {
        await kv.batch([put(b(1), b(10)), put(b(3), b(30))]);
        const got = await kv.getMany([b(3), b(2), b(1), b(3)]);
        expect(got.map(hexOrNull)).to.deep.equal(['1e', null, '0a', '1e']);
        expect(await kv.getMany([])).to.deep.equal([]);
      });
    });

    describe('batch', () => {
      it('makes every operation visible once it resolves', async () => {
        const ops = range(200).map((i) => put(key16(i), b(i & 0xff)));
        await kv.batch(ops);
        const got = await kv.getMany(ops.map((op) => op.key));
        expect(got.every((v, i) => v !== null && v[0] === (i & 0xff))).to.equal(true);
      });

      it('lets a later operation on the same key win', async () => {
        await kv.batch([put(b(1), b(1)), put(b(1), b(2)), put(b(2), b(1)), del(b(2)), del(b(3)), put(b(3), b(3))]);
        expect((await kv.getMany([b(1), b(2), b(3)])).map(hexOrNull)).to.deep.equal(['02', null, '03']);
      });

      it('mixes puts and deletes of existing keys', async () => {
        await kv.batch([put(b(1), b(1)), put(b(2), b(2)), put(b(3), b(3))]);
        await kv.batch([del(b(1)), put(b(2), b(20)), del(b(3)), put(b(4), b(4)), del(b(99))]);
        expect(await entriesOf(kv)).to.deep.equal([
          ['02', '14'],
          ['04', '04'],
        ]);
      });

      it('accepts an empty batch and changes nothing', async () => {
        await kv.batch([put(b(1), b(1))]);
        await kv.batch([]);
        expect(await entriesOf(kv)).to.deep.equal([['01', '01']]);
      });

      it('applies nothing when it rejects', async () => {
        await kv.batch([put(b(1), b(1))]);
        const bad: KvOp[] = [put(b(1), b(100)), put(b(2), b(2)), put(new Uint8Array(0), b(3)), del(b(1))];
        await expectMetricstorError(kv.batch(bad));
        expect(await entriesOf(kv)).to.deep.equal([['01', '01']]);
      });

      it('keeps concurrent batches whole', async () => {
        const writers = range(8).map((w) =>
          kv.batch(range(50).map((i) => put(concat(b(w), key16(i)), b(w, i)))),
        );
        await Promise.all(writers);
        const page = await kv.scan({ start: b(0), end: b(8), limit: 1000 });
        expect(page.entries.length).to.equal(400);
        expect(page.next).to.equal(undefined);
      });
    });

    describe('scan', () => {
      beforeEach(async () => {
        await kv.batch(range(20).map((i) => put(b(i * 2), b(i))));
      });

      it('returns start <= key < end in ascending order', async () => {
        const page = await kv.scan({ start: b(4), end: b(10) });
        expect(page.entries.map((e) => hex(e.key))).to.deep.equal(['04', '06', '08']);
        expect(page.next).to.equal(undefined);
        const between = await kv.scan({ start: b(5), end: b(9) });
        expect(between.entries.map((e) => hex(e.key))).to.deep.equal(['06', '08']);
      });

      it('treats an empty end as unbounded and an empty start as the beginning', async () => {
        const tail = await kv.scan({ start: b(34), end: new Uint8Array(0) });
        expect(tail.entries.map((e) => hex(e.key))).to.deep.equal(['22', '24', '26']);
        const all = await kv.scan({ start: new Uint8Array(0), end: new Uint8Array(0) });
        expect(all.entries.length).to.equal(20);
        expect(hex(all.entries[0]!.key)).to.equal('00');
      });

      it('returns nothing for an empty or inverted range', async () => {
        expect((await kv.scan({ start: b(6), end: b(6) })).entries).to.deep.equal([]);
        expect((await kv.scan({ start: b(10), end: b(4) })).entries).to.deep.equal([]);
        expect((await kv.scan({ start: b(200), end: new Uint8Array(0) })).entries).to.deep.equal([]);
      });

      it('stops at limit and says where to continue', async () => {
        const page = await kv.scan({ start: b(0), end: new Uint8Array(0), limit: 3 });
        expect(page.entries.map((e) => hex(e.key))).to.deep.equal(['00', '02', '04']);
        expect(page.next).to.not.equal(undefined);
        expect(compareBytes(page.next!, b(4))).to.be.greaterThan(0);
        expect(compareBytes(page.next!, b(6))).to.be.at.most(0);
        const rest = await kv.scan({ start: page.next!, end: new Uint8Array(0), limit: 3 });
        expect(hex(rest.entries[0]!.key)).to.equal('06');
      });

      it('defaults to 1000 entries per page', async () => {
        await kv.batch(range(1100).map((i) => put(concat(b(200), key16(i)), b())));
        const page = await kv.scan({ start: b(200), end: b(201) });
        expect(page.entries.length).to.equal(1000);
        expect(page.next).to.not.equal(undefined);
      });

      it('paginates over many pages without loss or repetition', async () => {
        const keys = range(500).map((i) => concat(b(100), key16(i * 7919 % 500)));
        await kv.batch(keys.map((k) => put(k, k)));
        const expected = keys.map(hex).sort();
        const seen: string[] = [];
        let start: Uint8Array = b(100);
        for (let pages = 0; pages < 200; pages++) {
          const page = await kv.scan({ start, end: b(101), limit: 7 });
          expect(page.entries.length).to.be.at.most(7);
          for (const e of page.entries) {
            expect(hex(e.value)).to.equal(hex(e.key));
            seen.push(hex(e.key));
          }
          if (page.next === undefined) break;
          start = page.next;
        }
        expect(seen).to.deep.equal(expected);
      });

      it('scanMany answers each range as scan does, in the order of the ranges', async () => {
        const ranges = [
          { start: b(10), end: b(16) },
          { start: b(0), end: b(5) },
          { start: b(6), end: b(6) },
          { start: b(30), end: new Uint8Array(0), limit: 2 },
          { start: b(10), end: b(4) },
        ];
        const pages = await kv.scanMany(ranges);
        expect(pages.length).to.equal(ranges.length);
        for (let i = 0; i < ranges.length; i++) {
          const one = await kv.scan(ranges[i]!);
          expect(pages[i]!.entries.map((e) => `${hex(e.key)}=${hex(e.value)}`)).to.deep.equal(one.entries.map((e) => `${hex(e.key)}=${hex(e.value)}`));
          expect(pages[i]!.next === undefined ? null : hex(pages[i]!.next!)).to.equal(one.next === undefined ? null : hex(one.next));
        }
        expect(pages[0]!.entries.map((e) => hex(e.key))).to.deep.equal(['0a', '0c', '0e']);
        expect(pages[3]!.entries.map((e) => hex(e.key))).to.deep.equal(['1e', '20']);
        expect(pages[3]!.next).to.not.equal(undefined);
        expect(await kv.scanMany([])).to.deep.equal([]);
      });
    });

    describe('bytewise order', () => {
      it('orders 0x00, 0xff and prefix keys as unsigned bytes, shorter prefix first', async () => {
        const keys = [
          b(0xff, 0xff), b(0x61, 0x62), b(0x00), b(0x80), b(0xff), b(0x00, 0x00), b(0x61),
          b(0x7f, 0xff), b(0x01), b(0xff, 0x00), b(0x61, 0x00), b(0x00, 0xff), b(0x7f),
        ];
        await kv.batch(keys.map((k) => put(k, k)));
        const got = (await kv.scan({ start: new Uint8Array(0), end: new Uint8Array(0) })).entries;
        expect(got.map((e) => hex(e.key))).to.deep.equal([
          '00', '0000', '00ff', '01', '61', '6100', '6162', '7f', '7fff', '80', 'ff', 'ff00', 'ffff',
        ]);
      });

      it('agrees with compareBytes on random keys, and prefix ranges hold exactly their keys', async () => {
        const random = lcg(42);
        const alphabet = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
        const keys = new Map<string, Uint8Array>();
        for (let i = 0; i < 300; i++) {
          const k = new Uint8Array(1 + (random() % 5)).map(() => alphabet[random() % alphabet.length]!);
          keys.set(hex(k), k);
        }
        await kv.batch([...keys.values()].map((k) => put(k, k)));
        const sorted = [...keys.values()].sort(compareBytes).map(hex);
        expect(await allKeys(kv, new Uint8Array(0), new Uint8Array(0))).to.deep.equal(sorted);
        for (const prefix of [b(0xff), b(0xff, 0xff), b(0x00), b(0x7f, 0x80), b(0x00, 0xff, 0xff)]) {
          const want = sorted.filter((k) => k.startsWith(hex(prefix)));
          expect(await allKeys(kv, prefix, prefixEnd(prefix))).to.deep.equal(want);
        }
      });
    });

    describe('compareAndSwap', () => {
      it('creates a key only when it is absent', async () => {
        expect(await kv.compareAndSwap(b(1), null, b(1))).to.equal(true);
        expect(await kv.compareAndSwap(b(1), null, b(2))).to.equal(false);
        expect(hex(await kv.get(b(1)))).to.equal('01');
      });

      it('swaps when the current value matches and refuses when it does not', async () => {
        await kv.batch([put(b(1), b(1, 1))]);
        expect(await kv.compareAndSwap(b(1), b(1), b(3))).to.equal(false);
        expect(await kv.compareAndSwap(b(1), b(1, 1, 0), b(3))).to.equal(false);
        expect(await kv.compareAndSwap(b(1), new Uint8Array(0), b(3))).to.equal(false);
        expect(hex(await kv.get(b(1)))).to.equal('0101');
        expect(await kv.compareAndSwap(b(1), b(1, 1), b(2, 2))).to.equal(true);
        expect(hex(await kv.get(b(1)))).to.equal('0202');
      });

      it('distinguishes an empty value from an absent key', async () => {
        expect(await kv.compareAndSwap(b(1), new Uint8Array(0), b(1))).to.equal(false);
        expect(await kv.get(b(1))).to.equal(null);
        await kv.batch([put(b(1), new Uint8Array(0))]);
        expect(await kv.compareAndSwap(b(1), null, b(1))).to.equal(false);
        expect(await kv.compareAndSwap(b(1), new Uint8Array(0), b(7))).to.equal(true);
        expect(hex(await kv.get(b(1)))).to.equal('07');
      });

      it('deletes when the new value is null', async () => {
        await kv.batch([put(b(1), b(1))]);
        expect(await kv.compareAndSwap(b(1), b(2), null)).to.equal(false);
        expect(hex(await kv.get(b(1)))).to.equal('01');
        expect(await kv.compareAndSwap(b(1), b(1), null)).to.equal(true);
        expect(await kv.get(b(1))).to.equal(null);
        expect(await kv.compareAndSwap(b(1), b(1), null)).to.equal(false);
      });

      it('lets exactly one of many concurrent creators win', async () => {
        const results = await Promise.all(range(16).map((i) => kv.compareAndSwap(b(7), null, b(i))));
        const winners = results.flatMap((ok, i) => (ok ? [i] : []));
        expect(winners.length).to.equal(1);
        expect(hex(await kv.get(b(7)))).to.equal(hex(b(winners[0]!)));
      });

      it('loses no increment among concurrent read-modify-write loops', async () => {
        await kv.batch([put(b(9), encodeCount(0))]);
        const workers = 6;
        const perWorker = 10;
        let attempts = 0;
        const increment = async (): Promise<void> => {
          for (let tries = 0; tries < 500; tries++) {
            attempts++;
            const cur = await kv.get(b(9));
            if (await kv.compareAndSwap(b(9), cur, encodeCount(decodeCount(cur!) + 1))) return;
          }
          throw new Error('increment did not succeed within 500 tries');
        };
        await Promise.all(range(workers).map(async () => {
          for (let i = 0; i < perWorker; i++) await increment();
        }));
        expect(decodeCount((await kv.get(b(9)))!)).to.equal(workers * perWorker);
        expect(attempts).to.be.at.least(workers * perWorker);
      });

      it('is atomic with respect to concurrent batches on the same key', async () => {
        await kv.batch([put(b(5), b(0))]);
        const results = await Promise.all([
          kv.compareAndSwap(b(5), b(0), b(1)),
          kv.batch([put(b(5), b(2))]),
          kv.compareAndSwap(b(5), b(0), b(3)),
        ]);
        const casWins = [results[0], results[2]].filter((x) => x === true).length;
        expect(casWins).to.be.at.most(1);
        const final = hex(await kv.get(b(5)));
        expect(['01', '02', '03']).to.include(final);
      });
    });

    describe('writeGeneration', () => {
      if (writeGeneration === 'absent') {
        it('is not offered: other writers change the data unseen, so readers must always read', async () => {
          await kv.batch([{ type: 'put', key: b(1), value: b(1) }]);
          expect(kv.writeGeneration?.()).to.equal(undefined);
        });
        return;
      }
      it('stays while nothing is written and changes with every kind of write', async () => {
        expect(kv.writeGeneration, 'the backend offers writeGeneration').to.be.a('function');
        const generation = (): string | undefined => kv.writeGeneration!();
        const g0 = generation();
        expect(g0).to.be.a('string');
        await kv.get(b(1));
        await kv.scan({ start: b(0), end: b(9) });
        expect(generation()).to.equal(g0);
        await kv.batch([{ type: 'put', key: b(1), value: b(1) }]);
        const g1 = generation();
        expect(g1).to.not.equal(g0);
        await kv.batch([{ type: 'del', key: b(1) }]);
        const g2 = generation();
        expect(g2).to.not.be.oneOf([g0, g1]);
        expect(await kv.compareAndSwap(b(2), null, b(2))).to.equal(true);
        expect(generation()).to.not.be.oneOf([g0, g1, g2]);
      });
    });

    describe('ownership of byte arrays', () => {
      it('does not alias values handed in or handed out', async () => {
        const k = b(1, 2, 3);
        const v = b(4, 5, 6);
        await kv.batch([put(k, v)]);
        v[0] = 99;
        k[0] = 99;
        const first = (await kv.get(b(1, 2, 3)))!;
        expect(hex(first)).to.equal('040506');
        first[1] = 77;
        const second = (await kv.get(b(1, 2, 3)))!;
        expect(hex(second)).to.equal('040506');
        const [many] = await kv.getMany([b(1, 2, 3)]);
        many![2] = 55;
        const scanned = (await kv.scan({ start: b(1), end: b(2) })).entries[0]!;
        expect(hex(scanned.value)).to.equal('040506');
        scanned.key[0] = 66;
        scanned.value[0] = 66;
        expect(hex(second)).to.equal('040506');
        expect(await entriesOf(kv)).to.deep.equal([['010203', '040506']]);
      });

      it('returns arrays that stay intact after later writes and reads', async () => {
        await kv.batch([put(b(1), b(1, 1)), put(b(2), b(2, 2))]);
        const page = await kv.scan({ start: b(0), end: new Uint8Array(0) });
        const got = await kv.get(b(1));
        await kv.batch([put(b(1), b(9, 9)), del(b(2))]);
        await kv.scan({ start: b(0), end: new Uint8Array(0) });
        await kv.get(b(2));
        expect(page.entries.map((e) => [hex(e.key), hex(e.value)])).to.deep.equal([
          ['01', '0101'],
          ['02', '0202'],
        ]);
        expect(hex(got)).to.equal('0101');
      });

      it('keeps the CAS value it was given, not the caller’s later edits', async () => {
        const v = b(1, 2);
        expect(await kv.compareAndSwap(b(3), null, v)).to.equal(true);
        v[0] = 9;
        expect(hex(await kv.get(b(3)))).to.equal('0102');
      });
    });

    describe('errors and close', () => {
      it('rejects empty keys with a MetricstorError', async () => {
        await expectMetricstorError(kv.get(new Uint8Array(0)));
        await expectMetricstorError(kv.getMany([b(1), new Uint8Array(0)]));
        await expectMetricstorError(kv.compareAndSwap(new Uint8Array(0), null, b(1)));
        await expectMetricstorError(kv.scan({ start: b(1), end: b(2), limit: 0 }));
      });

      it('closes, rejects later calls as unavailable, and tolerates a second close', async () => {
        await kv.batch([put(b(1), b(1))]);
        await kv.close();
        closed = true;
        for (const call of [
          () => kv.get(b(1)),
          () => kv.getMany([b(1)]),
          () => kv.batch([put(b(2), b(2))]),
          () => kv.scan({ start: b(0), end: new Uint8Array(0) }),
          () => kv.compareAndSwap(b(1), null, b(1)),
        ]) {
          expect((await expectMetricstorError(call())).type).to.equal('unavailable');
        }
        await kv.close();
      });
    });
  });
}

function b(...bytes: number[]): Uint8Array {
  return Uint8Array.from(bytes);
}

function put(key: Uint8Array, value: Uint8Array): KvOp {
  return { type: 'put', key, value };
}

function del(key: Uint8Array): KvOp {
  return { type: 'del', key };
}

function hex(v: Uint8Array | null): string {
  if (v === null) throw new Error('expected a value, got null');
  return toHex(v);
}

function hexOrNull(v: Uint8Array | null): string | null {
  return v === null ? null : toHex(v);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function key16(i: number): Uint8Array {
  return b((i >>> 8) & 0xff, i & 0xff);
}

function encodeCount(n: number): Uint8Array {
  return new TextEncoder().encode(String(n));
}

function decodeCount(v: Uint8Array): number {
  return Number(new TextDecoder().decode(v));
}

/** A small deterministic generator so a failure reproduces. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state >>> 8;
  };
}

async function allKeys(kv: KvStore, start: Uint8Array, end: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  let from = start;
  for (let pages = 0; pages < 100; pages++) {
    const page = await kv.scan({ start: from, end, limit: 64 });
    out.push(...page.entries.map((e: KvEntry) => toHex(e.key)));
    if (page.next === undefined) return out;
    from = page.next;
  }
  throw new Error('scan did not finish within 100 pages');
}

async function entriesOf(kv: KvStore): Promise<[string, string][]> {
  const page = await kv.scan({ start: new Uint8Array(0), end: new Uint8Array(0), limit: 10_000 });
  return page.entries.map((e) => [toHex(e.key), toHex(e.value)]);
}

async function expectMetricstorError(p: Promise<unknown>): Promise<MetricstorError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(MetricstorError);
    return err as MetricstorError;
  }
  throw new Error('expected the call to reject with a MetricstorError');
}
