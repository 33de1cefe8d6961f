/** The range query's result as a uPlot line chart: one line per series over the union of timestamps. */
import uPlot from 'uplot';
import type { QueryData } from './api.js';
import { chartValue, formatSeries } from './format.js';

const MAX_SERIES = 200;
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface ChartSeries {
  readonly label: string;
  readonly points: ReadonlyArray<readonly [number, number | null]>;
}

/** The result's series as labelled points, capped at MAX_SERIES. */
export function chartSeries(data: QueryData): ChartSeries[] {
  switch (data.resultType) {
    case 'matrix':
      return data.result.slice(0, MAX_SERIES).map((s) => ({
        label: formatSeries(s.metric),
        points: (s.values ?? []).map(([t, v]) => [t, chartValue(v)] as const),
      }));
    case 'vector':
      return data.result.slice(0, MAX_SERIES).map((s) => ({
        label: formatSeries(s.metric),
        points: s.value ? [[s.value[0], chartValue(s.value[1])] as const] : [],
      }));
    case 'scalar':
      return [{ label: 'scalar', points: [[data.result[0], chartValue(data.result[1])]] }];
    case 'string':
      return [];
  }
}

/** uPlot's column layout: sorted x values, then one y column per series with null where it has no point. */
export function alignSeries(series: readonly ChartSeries[]): uPlot.AlignedData {
  const times = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const ys: (number | null)[] = new Array<number | null>(times.length).fill(null);
    for (const [t, v] of s.points) ys[index.get(t)!] = v;
    return ys;
  });
  return [times, ...columns];
}

export class Chart {
  private plot: uPlot | undefined;

  constructor(private readonly container: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(container);
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(300, this.container.clientWidth), height: 320 };
  }

  /** Draws the result over the queried span [startSec, endSec]; answers how many series it had. */
  render(data: QueryData, startSec: number, endSec: number): number {
    this.clear();
    const series = chartSeries(data);
    const total = data.resultType === 'matrix' || data.resultType === 'vector' ? data.result.length : series.length;
    if (series.length === 0) return total;
    const opts: uPlot.Options = {
      ...this.size(),
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length]!,
          width: 1.5,
          spanGaps: false,
          points: { show: s.points.length < 3 },
        })),
      ],
      scales: { x: { time: true, range: () => [startSec, endSec] } },
      axes: [{}, { size: 70 }],
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
    };
    this.plot = new uPlot(opts, alignSeries(series), this.container);
    return total;
  }

  clear(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.container.replaceChildren();
  }
}
