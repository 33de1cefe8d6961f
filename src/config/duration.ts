const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/**
 * A Prometheus-style duration ("90s", "1h30m", "500ms", "0") in milliseconds, or undefined when
 * the text is not one. Units must go from larger to smaller, each at most once.
 */
export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/y;
  const order = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let lastRank = -1;
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (m === null) return undefined;
    const rank = order.indexOf(m[2]!);
    if (rank <= lastRank) return undefined;
    lastRank = rank;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === 0 || !Number.isSafeInteger(total) ? undefined : total;
}

/** Milliseconds printed the way parseDurationMs reads them back: 5m, 1h30m, 500ms, 0s. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
