/**
 * XOR chunk codec benchmark on node_exporter-like data: encode and decode rates (samples/s) and
 * bytes per sample of closed 120-sample chunks, per kind of series and overall, for exact 15 s
 * scrapes and for scrapes with a little jitter.
 *
 *   npx tsx bench/chunk.ts [--hosts 12] [--rounds 5]
 *
 * Rates are samples per CPU second of this process, best of the rounds. Prints a table and then
 * one JSON line starting with {"bench":"chunk".
 */
import { performance } from 'node:perf_hooks';
import { XorAppender, XorIterator, decodeXorChunk } from '../src/chunk/index.js';
import { generateSeries, type SeriesKind } from './data/node-exporter.js';

const SAMPLES_PER_CHUNK = 120;
const INTERVAL_MS = 15_000;

interface Options {
  hosts: number;
  rounds: number;
}

function parseArgs(argv: string[]): Options {
  const opts: Options = { hosts: 12, rounds: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    if (argv[i] === '--hosts' && value > 0) opts.hosts = value;
    else if (argv[i] === '--rounds' && value > 0) opts.rounds = value;
    else throw new Error(`unknown or invalid argument ${argv[i]}`);
  }
  return opts;
}

/** The samples of one future chunk. */
interface ChunkInput {
  timestamps: Float64Array;
  values: Float64Array;
}

interface Group {
  name: string;
  inputs: ChunkInput[];
  samples: number;
}

function groups(hosts: number, jitterMs: number): Group[] {
  const series = generateSeries({ hosts, durationMs: 4 * SAMPLES_PER_CHUNK * INTERVAL_MS, intervalMs: INTERVAL_MS, jitterMs, seed: 7 });
  const byKind = new Map<SeriesKind | 'all', Group>();
  const add = (name: SeriesKind | 'all', input: ChunkInput): void => {
    let g = byKind.get(name);
    if (!g) byKind.set(name, (g = { name, inputs: [], samples: 0 }));
    g.inputs.push(input);
    g.samples += input.timestamps.length;
  };
  for (const s of series) {
    for (let from = 0; from + SAMPLES_PER_CHUNK <= s.timestamps.length; from += SAMPLES_PER_CHUNK) {
      const input = {
        timestamps: s.timestamps.subarray(from, from + SAMPLES_PER_CHUNK),
        values: s.values.subarray(from, from + SAMPLES_PER_CHUNK),
      };
      add(s.kind, input);
      add('all', input);
    }
  }
  return ['counter', 'gauge', 'histogram', 'all'].map((k) => byKind.get(k as SeriesKind | 'all')!);
}

function encodeAll(inputs: ChunkInput[]): Uint8Array[] {
  const out: Uint8Array[] = new Array(inputs.length);
  for (let c = 0; c < inputs.length; c++) {
    const { timestamps, values } = inputs[c]!;
    const a = new XorAppender();
    for (let i = 0; i < timestamps.length; i++) a.appendFrom(values, i, timestamps[i]!);
    out[c] = a.bytes();
  }
  return out;
}

function decodeAll(chunks: Uint8Array[]): number {
  let check = 0;
  for (const chunk of chunks) check += decodeXorChunk(chunk).timestamps.length;
  return check;
}

/** The query path: walk with the iterator into reused buffers. */
function iterateAll(chunks: Uint8Array[], ts: Float64Array, vs: Float64Array): number {
  let check = 0;
  for (const chunk of chunks) {
    const it = new XorIterator(chunk);
    let i = 0;
    while (it.next()) {
      ts[i] = it.t;
      it.valueInto(vs, i);
      i++;
    }
    check += i;
  }
  return check;
}

/**
 * Best of `rounds` runs, in CPU seconds of this process (user + system), so that other load on a
 * shared machine does not count against the codec.
 */
function best(rounds: number, run: () => void): number {
  let bestS = Infinity;
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    bestS = Math.min(bestS, (used.user + used.system) / 1e6);
  }
  return bestS;
}

interface Row {
  scrape: string;
  kind: string;
  chunks: number;
  samples: number;
  bytesPerSample: number;
  /** Samples per CPU second. */
  encodeSamplesPerS: number;
  decodeSamplesPerS: number;
  iterateSamplesPerS: number;
}

function verify(inputs: ChunkInput[], chunks: Uint8Array[]): void {
  for (let c = 0; c < inputs.length; c++) {
    const back = decodeXorChunk(chunks[c]!);
    const want = inputs[c]!;
    const a = new Uint32Array(back.values.buffer);
    const b = new Uint32Array(want.values.buffer, want.values.byteOffset, want.values.length * 2);
    for (let i = 0; i < want.timestamps.length; i++) {
      if (back.timestamps[i] !== want.timestamps[i] || a[2 * i] !== b[2 * i] || a[2 * i + 1] !== b[2 * i + 1]) {
        throw new Error(`round trip mismatch in chunk ${c} sample ${i}`);
      }
    }
  }
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const rows: Row[] = [];
  const ts = new Float64Array(SAMPLES_PER_CHUNK);
  const vs = new Float64Array(SAMPLES_PER_CHUNK);
  const started = performance.now();
  const variants = [['exact 15s', groups(opts.hosts, 0)], ['15s ±25ms', groups(opts.hosts, 25)]] as const;
  // Warm up the JIT on everything once, so the first row measured is not the slow one.
  for (const [, gs] of variants) {
    const all = gs.at(-1)!;
    const chunks = encodeAll(all.inputs);
    decodeAll(chunks);
    iterateAll(chunks, ts, vs);
  }
  for (const [scrape, gs] of variants) {
    for (const g of gs) {
      const chunks = encodeAll(g.inputs); // also warms up
      verify(g.inputs, chunks);
      decodeAll(chunks);
      iterateAll(chunks, ts, vs);
      const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
      const encodeS = best(opts.rounds, () => encodeAll(g.inputs));
      const decodeS = best(opts.rounds, () => decodeAll(chunks));
      const iterateS = best(opts.rounds, () => iterateAll(chunks, ts, vs));
      rows.push({
        scrape,
        kind: g.name,
        chunks: chunks.length,
        samples: g.samples,
        bytesPerSample: bytes / g.samples,
        encodeSamplesPerS: g.samples / encodeS,
        decodeSamplesPerS: g.samples / decodeS,
        iterateSamplesPerS: g.samples / iterateS,
      });
    }
  }
  const elapsedS = (performance.now() - started) / 1000;

  const m = (x: number): string => (x / 1e6).toFixed(1);
  const header = ['scrape', 'kind', 'chunks', 'samples', 'bytes/sample', 'encode M/cpu-s', 'decode M/cpu-s', 'iterate M/cpu-s'];
  const lines = rows.map((r) => [r.scrape, r.kind, String(r.chunks), String(r.samples), r.bytesPerSample.toFixed(3), m(r.encodeSamplesPerS), m(r.decodeSamplesPerS), m(r.iterateSamplesPerS)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(`XOR chunk codec, ${opts.hosts} hosts of node_exporter-like series, ${SAMPLES_PER_CHUNK}-sample chunks, million samples per CPU second, best of ${opts.rounds} rounds`);
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log(JSON.stringify({ bench: 'chunk', hosts: opts.hosts, rounds: opts.rounds, samplesPerChunk: SAMPLES_PER_CHUNK, node: process.version, elapsedS: Number(elapsedS.toFixed(1)), rows }));
}

main();
