/**
 * ECharts options for the report's charts, as plain JSON (no formatter functions), keyed by the id of the
 * element each chart is drawn in. Text inside charts is drawn by ECharts on a canvas, never parsed as HTML.
 */
import type { ReportData } from './types.js';

export type ChartOption = Record<string, unknown>;

export interface ChartSpec {
  id: string;
  title: string;
  option: ChartOption;
  /** Extra `data-*` attributes for the container (e.g. the number of heat-map cells). */
  attrs?: Record<string, string>;
  height?: number;
}

const base = (): ChartOption => ({
  animation: false,
  tooltip: { trigger: 'axis', renderMode: 'richText' },
  legend: { top: 0 },
  grid: { left: 56, right: 56, top: 40, bottom: 40, containLabel: true },
});

/** Long category labels are cut with an ellipsis rather than overlapping their neighbours. */
const LONG_LABEL = { width: 120, overflow: 'truncate' };

const round = (v: number | undefined): number | null =>
  typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(6)) : null;

function lineSeries(name: string, values: (number | null)[]): ChartOption {
  return { name, type: 'line', data: values, showSymbol: true, connectNulls: true };
}

export function lossChart(data: ReportData): ChartSpec {
  const h = data.history;
  const series = [
    lineSeries(
      'train loss',
      h.map((e) => round(e.trainLoss)),
    ),
  ];
  if (h.some((e) => e.valLoss !== undefined))
    series.push(
      lineSeries(
        'validation loss',
        h.map((e) => round(e.valLoss)),
      ),
    );
  return {
    id: 'chart-loss',
    title: 'Loss per epoch',
    option: {
      ...base(),
      xAxis: { type: 'category', name: 'epoch', data: h.map((e) => e.epoch) },
      yAxis: { type: 'value', name: 'loss', scale: true },
      series,
    },
  };
}

export function accuracyChart(data: ReportData): ChartSpec | undefined {
  const h = data.history;
  const series: ChartOption[] = [];
  if (h.some((e) => e.trainAccuracy !== undefined))
    series.push(
      lineSeries(
        'train accuracy',
        h.map((e) => round(e.trainAccuracy)),
      ),
    );
  if (h.some((e) => e.valAccuracy !== undefined))
    series.push(
      lineSeries(
        'validation accuracy',
        h.map((e) => round(e.valAccuracy)),
      ),
    );
  if (series.length === 0) return undefined;
  return {
    id: 'chart-accuracy',
    title: 'Accuracy per epoch',
    option: {
      ...base(),
      xAxis: { type: 'category', name: 'epoch', data: h.map((e) => e.epoch) },
      yAxis: { type: 'value', name: 'accuracy', max: 1, scale: true },
      series,
    },
  };
}

export function confusionChart(data: ReportData): ChartSpec {
  const { labels, confusion } = data.evaluation;
  const n = labels.length;
  const cells: [number, number, number][] = [];
  let max = 0;
  for (let t = 0; t < n; t++) {
    for (let p = 0; p < n; p++) {
      const v = confusion[t]?.[p] ?? 0;
      max = Math.max(max, v);
      cells.push([p, t, v]);
    }
  }
  return {
    id: 'chart-confusion',
    title: 'Confusion matrix (rows: true label, columns: predicted)',
    attrs: { 'data-cells': String(cells.length), 'data-classes': String(n) },
    height: Math.max(320, Math.min(900, 120 + n * 36)),
    option: {
      animation: false,
      tooltip: { trigger: 'item', renderMode: 'richText' },
      grid: { left: 24, right: 24, top: 24, bottom: 72, containLabel: true },
      xAxis: { type: 'category', data: labels, axisLabel: { interval: 0, ...LONG_LABEL } },
      yAxis: { type: 'category', data: labels, inverse: true, axisLabel: { interval: 0, ...LONG_LABEL } },
      visualMap: {
        min: 0,
        max: Math.max(1, max),
        calculable: true,
        orient: 'horizontal',
        left: 'center',
        bottom: 0,
        inRange: { color: ['#f7fbff', '#08306b'] },
      },
      series: [{ name: 'count', type: 'heatmap', data: cells, label: { show: n <= 20 } }],
    },
  };
}

export function perClassChart(data: ReportData): ChartSpec {
  const { labels, perClass } = data.evaluation;
  const bar = (name: string, key: 'precision' | 'recall' | 'f1'): ChartOption => ({
    name,
    type: 'bar',
    data: perClass.map((s) => round(s[key])),
  });
  return {
    id: 'chart-per-class',
    title: 'Precision, recall and F1 per class',
    option: {
      ...base(),
      xAxis: {
        type: 'category',
        data: labels,
        axisLabel: { interval: 0, rotate: labels.length > 8 ? 45 : 0, ...LONG_LABEL },
      },
      yAxis: { type: 'value', min: 0, max: 1 },
      series: [bar('precision', 'precision'), bar('recall', 'recall'), bar('F1', 'f1')],
    },
  };
}

export function comparisonChart(data: ReportData): ChartSpec | undefined {
  const rows = data.comparisons;
  if (rows.length === 0) return undefined;
  return {
    id: 'chart-comparison',
    title: 'Transfer learning vs baselines',
    option: {
      ...base(),
      xAxis: {
        type: 'category',
        data: rows.map((r) => r.name),
        axisLabel: { interval: 0, ...LONG_LABEL, width: 200 },
      },
      yAxis: { type: 'value', min: 0, max: 1 },
      series: [
        { name: 'accuracy', type: 'bar', data: rows.map((r) => round(r.accuracy)) },
        { name: 'macro F1', type: 'bar', data: rows.map((r) => round(r.macroF1)) },
      ],
    },
  };
}

/** All charts the data supports, in page order. */
export function buildCharts(data: ReportData): ChartSpec[] {
  return [
    lossChart(data),
    accuracyChart(data),
    confusionChart(data),
    perClassChart(data),
    comparisonChart(data),
  ].filter((c): c is ChartSpec => c !== undefined);
}
