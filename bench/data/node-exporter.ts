/**
 * Deterministic node_exporter-like data for benchmarks: the same options always give the same
 * series, timestamps and values, whatever slice size the caller reads them in.
 *
 * Per host (75 series): cpu seconds counters (4 cpus × 8 modes), memory gauges, filesystem
 * gauges, network counters that reset now and then, load and process gauges, context-switch and
 * interrupt counters, a wall-clock gauge, a boot-time constant, and one classic histogram
 * (12 `le` buckets, `_sum`, `_count`).
 *
 * All series of one host share the scrape timestamps, as a real scrape does: sample i of a host is
 * at startMs + i × intervalMs, plus a per-(host, i) jitter of at most ±jitterMs when jitterMs > 0.
 */
import { sortLabels, type Label, type Labels } from '../../src/model/labels.js';

export type SeriesKind = 'counter' | 'gauge' | 'histogram';

export interface NodeExporterOptions {
  readonly hosts: number;
  readonly durationMs: number;
  /** Scrape interval; default 15 000. */
  readonly intervalMs?: number;
  /** Time of the first scrape; default 2026-01-01T00:00:00Z. */
  readonly startMs?: number;
  /** Largest deviation of a scrape from its nominal time; default 0 (exact interval). */
  readonly jitterMs?: number;
  /** PRNG seed; default 1. */
  readonly seed?: number;
}

export interface GeneratedSeries {
  readonly labels: Labels;
  readonly kind: SeriesKind;
  readonly timestamps: Float64Array;
  readonly values: Float64Array;
}

export const DEFAULT_INTERVAL_MS = 15_000;
export const DEFAULT_START_MS = Date.UTC(2026, 0, 1);
export const SERIES_PER_HOST = 75;

const CPUS = 4;
const CPU_MODES = ['idle', 'iowait', 'irq', 'nice', 'softirq', 'steal', 'system', 'user'] as const;
/** Share of one cpu each mode uses, on average. */
const CPU_MODE_SHARE = [0.82, 0.01, 0.002, 0.001, 0.005, 0.0, 0.05, 0.11] as const;
const LE_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, Infinity] as const;
const NET_DEVICES = ['eth0', 'lo'] as const;
const FILESYSTEMS = [
  { device: '/dev/sda1', fstype: 'ext4', mountpoint: '/' },
  { device: '/dev/sdb1', fstype: 'xfs', mountpoint: '/var' },
] as const;
const GIB = 1024 * 1024 * 1024;

/** How a series' next value is made from its state. */
const enum Shape {
  CpuCounter,
  ByteGauge,
  FsAvail,
  NetCounter,
  IntCounter,
  Load,
  ProcsGauge,
  WallClock,
  Constant,
  Bucket,
  HistSum,
  HistCount,
}

interface SeriesDef {
  readonly labels: Labels;
  readonly kind: SeriesKind;
  readonly shape: Shape;
  readonly host: number;
  /** Shape parameter: cpu share, byte size, rate per second, bucket bound. */
  readonly param: number;
  readonly initial: number;
}

interface SeriesState {
  value: number;
  rng: number;
}

function resolved(opts: NodeExporterOptions): Required<NodeExporterOptions> {
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const jitterMs = opts.jitterMs ?? 0;
  if (!(intervalMs > 0) || !Number.isInteger(intervalMs)) throw new Error('intervalMs must be a positive integer');
  if (jitterMs < 0 || jitterMs * 2 >= intervalMs) throw new Error('jitterMs must be in [0, intervalMs/2)');
  return {
    hosts: opts.hosts,
    durationMs: opts.durationMs,
    intervalMs,
    startMs: opts.startMs ?? DEFAULT_START_MS,
    jitterMs,
    seed: opts.seed ?? 1,
  };
}

/** 32-bit integer hash of up to three numbers (a splitmix-style finaliser). */
function mix(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 0x27d4eb2f, 0x165667b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) from a hash. */
function unit(h: number): number {
  return h / 4294967296;
}

/** One step of a per-series xorshift32 generator; returns the new state (never 0). */
function xorshift(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0 || 1;
}

function label(name: string, value: string): Label {
  return { name, value };
}

function hostLabels(host: number, name: string, extra: Label[]): Labels {
  const instance = `host-${String(host + 1).padStart(3, '0')}:9100`;
  return sortLabels([label('__name__', name), label('instance', instance), label('job', 'node'), ...extra]);
}

function defsForHost(host: number, seed: number): SeriesDef[] {
  const defs: SeriesDef[] = [];
  const r = (k: number): number => unit(mix(seed, host, k));
  const add = (name: string, extra: Label[], kind: SeriesKind, shape: Shape, param: number, initial: number): void => {
    defs.push({ labels: hostLabels(host, name, extra), kind, shape, host, param, initial });
  };
  const uptimeS = 86_400 * (1 + 30 * r(1));
  for (let cpu = 0; cpu < CPUS; cpu++) {
    CPU_MODES.forEach((mode, m) => {
      const share = CPU_MODE_SHARE[m]!;
      add('node_cpu_seconds_total', [label('cpu', String(cpu)), label('mode', mode)], 'counter', Shape.CpuCounter, share,
        Math.round(uptimeS * share * 100) / 100);
    });
  }
  const memTotal = (8 + 8 * Math.floor(r(2) * 8)) * GIB;
  add('node_memory_MemTotal_bytes', [], 'gauge', Shape.Constant, 0, memTotal);
  add('node_memory_MemFree_bytes', [], 'gauge', Shape.ByteGauge, memTotal * 0.3, memTotal * 0.3);
  add('node_memory_MemAvailable_bytes', [], 'gauge', Shape.ByteGauge, memTotal * 0.6, memTotal * 0.6);
  add('node_memory_Buffers_bytes', [], 'gauge', Shape.ByteGauge, memTotal * 0.02, memTotal * 0.02);
  add('node_memory_Cached_bytes', [], 'gauge', Shape.ByteGauge, memTotal * 0.25, memTotal * 0.25);
  add('node_memory_SwapTotal_bytes', [], 'gauge', Shape.Constant, 0, 2 * GIB);
  add('node_memory_SwapFree_bytes', [], 'gauge', Shape.ByteGauge, 1.9 * GIB, 1.9 * GIB);
  FILESYSTEMS.forEach((fs, f) => {
    const extra = [label('device', fs.device), label('fstype', fs.fstype), label('mountpoint', fs.mountpoint)];
    const size = (50 + Math.floor(r(10 + f) * 450)) * GIB;
    const avail = Math.floor((size * (0.2 + 0.6 * r(20 + f))) / 4096) * 4096;
    add('node_filesystem_size_bytes', extra, 'gauge', Shape.Constant, 0, size);
    add('node_filesystem_avail_bytes', extra, 'gauge', Shape.FsAvail, 0, avail);
    add('node_filesystem_free_bytes', extra, 'gauge', Shape.FsAvail, 0, avail + 5 * GIB);
  });
  NET_DEVICES.forEach((device, d) => {
    const extra = [label('device', device)];
    const bytesRate = d === 0 ? 2e5 + 2e6 * r(30) : 5e4;
    add('node_network_receive_bytes_total', extra, 'counter', Shape.NetCounter, bytesRate, Math.floor(bytesRate * uptimeS));
    add('node_network_transmit_bytes_total', extra, 'counter', Shape.NetCounter, bytesRate * 0.4, Math.floor(bytesRate * 0.4 * uptimeS));
    add('node_network_receive_packets_total', extra, 'counter', Shape.NetCounter, bytesRate / 900, Math.floor((bytesRate / 900) * uptimeS));
    add('node_network_transmit_packets_total', extra, 'counter', Shape.NetCounter, bytesRate / 1200, Math.floor((bytesRate / 1200) * uptimeS));
  });
  add('node_load1', [], 'gauge', Shape.Load, 1, 0.5 + 2 * r(40));
  add('node_load5', [], 'gauge', Shape.Load, 5, 0.5 + 2 * r(40));
  add('node_load15', [], 'gauge', Shape.Load, 15, 0.5 + 2 * r(40));
  add('node_procs_running', [], 'gauge', Shape.ProcsGauge, 0, 2);
  add('node_context_switches_total', [], 'counter', Shape.IntCounter, 3000, Math.floor(3000 * uptimeS));
  add('node_intr_total', [], 'counter', Shape.IntCounter, 1500, Math.floor(1500 * uptimeS));
  add('node_time_seconds', [], 'gauge', Shape.WallClock, 0, 0);
  add('node_boot_time_seconds', [], 'gauge', Shape.Constant, 0, Math.floor(DEFAULT_START_MS / 1000 - uptimeS));
  const handler = [label('handler', '/metrics')];
  for (const le of LE_BOUNDS) {
    const leText = le === Infinity ? '+Inf' : String(le);
    add('http_request_duration_seconds_bucket', [...handler, label('le', leText)], 'histogram', Shape.Bucket, le, 0);
  }
  add('http_request_duration_seconds_sum', handler, 'histogram', Shape.HistSum, 0, 0);
  add('http_request_duration_seconds_count', handler, 'histogram', Shape.HistCount, 0, 0);
  return defs;
}

/** The label sets and kinds of every series, in generation order. */
export function seriesDefinitions(opts: NodeExporterOptions): { labels: Labels; kind: SeriesKind }[] {
  const o = resolved(opts);
  const out: { labels: Labels; kind: SeriesKind }[] = [];
  for (let h = 0; h < o.hosts; h++) for (const d of defsForHost(h, o.seed)) out.push({ labels: d.labels, kind: d.kind });
  return out;
}

export function samplesPerSeries(opts: NodeExporterOptions): number {
  const o = resolved(opts);
  return Math.max(0, Math.ceil(o.durationMs / o.intervalMs));
}

export function countSeries(opts: NodeExporterOptions): number {
  return resolved(opts).hosts * SERIES_PER_HOST;
}

export function countSamples(opts: NodeExporterOptions): number {
  return countSeries(opts) * samplesPerSeries(opts);
}

/** Scrape time of sample i of a host. */
function scrapeTimeMs(o: Required<NodeExporterOptions>, host: number, i: number): number {
  const nominal = o.startMs + i * o.intervalMs;
  if (o.jitterMs === 0) return nominal;
  // Most scrapes are a few ms late or early; one in eight lands exactly on time.
  const h = mix(o.seed ^ 0x5bd1e995, host, i);
  if ((h & 7) === 0) return nominal;
  return nominal + Math.round((unit(h) * 2 - 1) * o.jitterMs);
}

/** The request duration observed by a host's scrape i (shared by all its histogram series). */
function observationSeconds(seed: number, host: number, i: number): number {
  const u = unit(mix(seed ^ 0x68e31da4, host, i)) || 1e-9;
  // Log-normal-ish around 20 ms with a long tail.
  return 0.02 * Math.exp(1.2 * Math.sqrt(-2 * Math.log(u)) * Math.cos(6.283185307179586 * unit(mix(seed, host, i))));
}

function nextValue(def: SeriesDef, st: SeriesState, o: Required<NodeExporterOptions>, tMs: number, i: number): number {
  st.rng = xorshift(st.rng);
  const u = unit(st.rng);
  const dtS = o.intervalMs / 1000;
  switch (def.shape) {
    case Shape.CpuCounter: {
      // USER_HZ resolution: cpu seconds move in steps of 0.01.
      const inc = Math.round(def.param * dtS * (0.5 + u) * 100) / 100;
      st.value = Math.round((st.value + inc) * 100) / 100;
      return st.value;
    }
    case Shape.ByteGauge: {
      const next = st.value + (u - 0.5) * def.param * 0.01 + (def.param - st.value) * 0.05;
      st.value = Math.max(0, Math.round(next / 4096) * 4096);
      return st.value;
    }
    case Shape.FsAvail: {
      if (u < 0.3) st.value -= 4096 * Math.floor(1 + u * 200);
      else if (u > 0.995) st.value += 4096 * 25_000;
      return st.value;
    }
    case Shape.NetCounter: {
      if (u < 0.0005) {
        st.value = Math.floor(def.param * dtS * u * 1000);
        return st.value;
      }
      st.value += Math.floor(def.param * dtS * (0.2 + 1.6 * u));
      return st.value;
    }
    case Shape.IntCounter:
      st.value += Math.floor(def.param * dtS * (0.8 + 0.4 * u));
      return st.value;
    case Shape.Load: {
      const pull = 1 / def.param;
      st.value = Math.max(0, Math.round((st.value + (u - 0.5) * pull * 2 + (1 - st.value) * pull * 0.1) * 100) / 100);
      return st.value;
    }
    case Shape.ProcsGauge:
      return 1 + Math.floor(u * u * 6);
    case Shape.WallClock:
      return tMs / 1000 + Math.floor(u * 1000) / 1e6;
    case Shape.Constant:
      return def.initial;
    case Shape.Bucket:
      if (observationSeconds(o.seed, def.host, i) <= def.param) st.value += 1;
      return st.value;
    case Shape.HistSum:
      st.value += observationSeconds(o.seed, def.host, i);
      return st.value;
    case Shape.HistCount:
      st.value += 1;
      return st.value;
  }
}

/**
 * Yields, for each time slice [startMs + k × sliceMs, startMs + (k+1) × sliceMs) of nominal scrape
 * times, every series with its samples in that slice (series in the order of seriesDefinitions).
 * Only one slice is in memory at a time; values carry over between slices, so concatenating the
 * slices gives the same data for every sliceMs.
 */
export function* generateSeriesSlices(opts: NodeExporterOptions, sliceMs: number): Generator<GeneratedSeries[]> {
  const o = resolved(opts);
  if (!(sliceMs > 0)) throw new Error('sliceMs must be positive');
  const total = samplesPerSeries(o);
  const defs: SeriesDef[] = [];
  for (let h = 0; h < o.hosts; h++) defs.push(...defsForHost(h, o.seed));
  const states: SeriesState[] = defs.map((d, k) => ({ value: d.initial, rng: mix(o.seed, k, 0x1234) || 1 }));
  for (let sliceStart = o.startMs; sliceStart < o.startMs + total * o.intervalMs; sliceStart += sliceMs) {
    const first = Math.ceil((sliceStart - o.startMs) / o.intervalMs);
    const end = Math.min(total, Math.ceil((sliceStart + sliceMs - o.startMs) / o.intervalMs));
    const n = Math.max(0, end - first);
    if (n === 0) continue;
    const out: GeneratedSeries[] = [];
    for (let k = 0; k < defs.length; k++) {
      const def = defs[k]!;
      const st = states[k]!;
      const timestamps = new Float64Array(n);
      const values = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        const i = first + j;
        const t = scrapeTimeMs(o, def.host, i);
        timestamps[j] = t;
        values[j] = nextValue(def, st, o, t, i);
      }
      out.push({ labels: def.labels, kind: def.kind, timestamps, values });
    }
    yield out;
  }
}

/** Every series with all its samples at once (for small data sets). */
export function generateSeries(opts: NodeExporterOptions): GeneratedSeries[] {
  const o = resolved(opts);
  const span = Math.max(1, samplesPerSeries(o) * o.intervalMs);
  const all: GeneratedSeries[] = [];
  for (const slice of generateSeriesSlices(o, span)) all.push(...slice);
  return all;
}
