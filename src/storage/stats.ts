import type { TsdbStats } from './types.js';
import type { SeriesIndex } from './series-index.js';

function top(counts: Map<string, number>, limit: number): { name: string; value: number }[] {
  return [...counts.entries()]
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => b.value - a.value || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .slice(0, Math.max(0, limit));
}

/** Cardinality statistics (as /api/v1/status/tsdb reports them) from one day's postings. */
export async function computeStats(index: SeriesIndex, day: number, limit: number): Promise<TsdbStats> {
  const series = new Set<bigint>();
  const byMetric = new Map<string, number>();
  const valuesByName = new Map<string, number>();
  const byPair = new Map<string, number>();
  let lastPair = '';
  await index.eachPosting(day, (name, value, sid) => {
    series.add(sid);
    if (name === '__name__') byMetric.set(value, (byMetric.get(value) ?? 0) + 1);
    const pair = `${name}=${value}`;
    if (pair !== lastPair) {
      // postings of one pair are adjacent: the first posting of a pair adds one value to its name
      if (!byPair.has(pair)) valuesByName.set(name, (valuesByName.get(name) ?? 0) + 1);
      lastPair = pair;
    }
    byPair.set(pair, (byPair.get(pair) ?? 0) + 1);
  });
  return {
    numSeries: series.size,
    seriesCountByMetricName: top(byMetric, limit),
    labelValueCountByLabelName: top(valuesByName, limit),
    seriesCountByLabelValuePair: top(byPair, limit),
  };
}
