/**
 * The accuracy and loss curves, drawn with uPlot (canvas; tens of thousands of points stay fast).
 * Each chart re-draws only when the rounds change, and records how many points it drew in
 * `data-points`, which tests and people inspecting the page can read.
 */
import uPlot from 'uplot';
import type { RoundRow } from '../api-types.js';

interface SeriesSpec {
  label: string;
  stroke: string;
  value: (r: RoundRow) => number | null;
}

export class RoundChart {
  readonly root: HTMLElement;
  private plot: uPlot | undefined;
  private readonly resize: ResizeObserver;

  constructor(
    title: string,
    private readonly series: SeriesSpec[],
    private readonly yFormat: (v: number) => string,
    id: string,
    /** Hard limits of the y axis (accuracy never leaves 0–100%). */
    private readonly yBounds: [number, number] = [-Infinity, Infinity],
  ) {
    this.root = document.createElement('figure');
    this.root.className = 'chart';
    this.root.id = id;
    this.root.dataset.points = '0';
    const caption = document.createElement('figcaption');
    caption.textContent = title;
    this.root.append(caption);
    this.resize = new ResizeObserver(() => {
      const width = this.width();
      if (this.plot && width > 0 && width !== this.plot.width) this.plot.setSize({ width, height: 220 });
    });
    this.resize.observe(this.root);
  }

  setRounds(rounds: readonly RoundRow[]): void {
    const data: uPlot.AlignedData = [rounds.map((r) => r.round), ...this.series.map((s) => rounds.map((r) => s.value(r)))];
    if (!this.plot) this.plot = new uPlot(this.options(), data, this.root);
    else this.plot.setData(data);
    const points = this.series.reduce((n, s) => n + rounds.filter((r) => s.value(r) !== null).length, 0);
    this.root.dataset.points = String(points);
  }

  destroy(): void {
    this.resize.disconnect();
    this.plot?.destroy();
  }

  private width(): number {
    return Math.max(200, Math.floor(this.root.clientWidth) - 8);
  }

  /** The data's range plus a margin, within the bounds; one point still gets a readable span. */
  private yRange(min: number | null, max: number | null): uPlot.Range.MinMax {
    if (min === null || max === null) return [0, 1];
    const pad = Math.max((max - min) * 0.1, Math.abs(max) * 0.02, 1e-3);
    return [Math.max(this.yBounds[0], min - pad), Math.min(this.yBounds[1], max + pad)];
  }

  private options(): uPlot.Options {
    return {
      width: this.width(),
      height: 220,
      scales: { x: { time: false }, y: { range: (_u, min, max) => this.yRange(min, max) } },
      axes: [
        // Rounds are whole numbers: no tick at 1.5.
        { label: 'round', stroke: '#8b95a7', grid: { stroke: '#2a3242' }, ticks: { stroke: '#2a3242' }, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000] },
        { stroke: '#8b95a7', grid: { stroke: '#2a3242' }, ticks: { stroke: '#2a3242' }, values: (_u, ticks) => ticks.map((v) => this.yFormat(v)), size: 60 },
      ],
      series: [
        { label: 'round' },
        ...this.series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 2,
          points: { show: true, size: 5 },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : this.yFormat(v)),
        })),
      ],
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
    };
  }
}

export function accuracyChart(): RoundChart {
  return new RoundChart('Test accuracy', [{ label: 'accuracy', stroke: '#4cc38a', value: (r) => (r.accuracy === null ? null : r.accuracy * 100) }], (v) => `${v.toFixed(1)}%`, 'accuracy-chart', [0, 100]);
}

export function lossChart(): RoundChart {
  return new RoundChart(
    'Loss',
    [
      { label: 'test loss', stroke: '#f5a524', value: (r) => r.loss },
      { label: 'train loss', stroke: '#7aa2f7', value: (r) => r.trainLoss },
    ],
    (v) => v.toFixed(3),
    'loss-chart',
    [0, Infinity],
  );
}
