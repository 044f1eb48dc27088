/** EvaluationReport: every metric of a classifier on one data set, JSON-serialisable, and a text table. */
import { check } from '../errors.js';
import { SMALL_SAMPLE, wilsonInterval } from './interval.js';
import {
  argmaxRows,
  averages,
  confusionMatrix,
  logLoss,
  numClassesOf,
  perClassStats,
  presentClasses,
  topKAccuracy,
  type ClassStats,
} from './metrics.js';

export interface EvaluationReport {
  n: number;
  numClasses: number;
  accuracy: number;
  balancedAccuracy: number;
  /** top-k accuracy for each requested k < numClasses, keyed by k ("2", "5"). */
  topK: Record<string, number>;
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  weightedF1: number;
  logLoss: number;
  perClass: ClassStats[];
  /** confusion[true][predicted] */
  confusion: number[][];
}

export interface EvaluateOptions {
  topK?: number[];
  /** log-loss clipping; default 1e-7 */
  eps?: number;
}

/**
 * The report of an evaluation on no examples (a data set too small to hold any out): every score NaN (null in
 * JSON), so nothing pretends to be a measurement.
 */
function emptyReport(): EvaluationReport {
  return {
    n: 0,
    numClasses: 0,
    accuracy: NaN,
    balancedAccuracy: NaN,
    topK: {},
    macroPrecision: NaN,
    macroRecall: NaN,
    macroF1: NaN,
    weightedF1: NaN,
    logLoss: NaN,
    perClass: [],
    confusion: [],
  };
}

/**
 * `evaluate` for a training run's held-out split, which may be empty (every class too small to hold an example
 * out, or both split fractions 0): then the empty report, where `evaluate` refuses no examples as BAD_INPUT.
 */
export function evaluateHeldOut(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: EvaluateOptions = {},
): EvaluationReport {
  return labels.length === 0 ? emptyReport() : evaluate(probs, labels, options);
}

export function evaluate(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: EvaluateOptions = {},
): EvaluationReport {
  const n = labels.length;
  const c = numClassesOf(probs, labels);
  const pred = argmaxRows(probs, n);
  const confusion = confusionMatrix(labels, pred, c);
  const perClass = perClassStats(confusion);
  let hits = 0;
  for (let i = 0; i < n; i++) if (pred[i] === labels[i]) hits++;
  const topK: Record<string, number> = {};
  for (const k of options.topK ?? [5]) if (k < c) topK[String(k)] = topKAccuracy(probs, labels, k);
  return {
    n,
    numClasses: c,
    accuracy: hits / n,
    topK,
    ...averages(perClass, presentClasses(confusion)),
    logLoss: logLoss(probs, labels, options.eps),
    perClass,
    confusion,
  };
}

const fmt = (v: number) => v.toFixed(4);

/** A plain-text table in the style of sklearn's classification_report, then the confusion matrix. */
export function formatReport(report: EvaluationReport, labels?: readonly string[]): string {
  const names = labels ?? report.perClass.map((_, k) => String(k));
  check(
    names.length === report.numClasses,
    'BAD_INPUT',
    `${names.length} label names for ${report.numClasses} classes`,
  );
  const w = Math.max(12, ...names.map((s) => s.length));
  const row = (name: string, cells: string[]) => name.padStart(w) + cells.map((s) => s.padStart(11)).join('');
  const lines = [row('', ['precision', 'recall', 'f1-score', 'support']), ''];
  report.perClass.forEach((s, k) => {
    lines.push(row(names[k]!, [fmt(s.precision), fmt(s.recall), fmt(s.f1), String(s.support)]));
  });
  lines.push('');
  lines.push(row('accuracy', ['', '', fmt(report.accuracy), String(report.n)]));
  if (report.n < SMALL_SAMPLE) {
    const { low, high } = wilsonInterval(Math.round(report.accuracy * report.n), report.n);
    lines.push(`${''.padStart(w)}  accuracy 95% interval ${fmt(low)}–${fmt(high)} (Wilson, n=${report.n})`);
  }
  lines.push(
    row('macro avg', [
      fmt(report.macroPrecision),
      fmt(report.macroRecall),
      fmt(report.macroF1),
      String(report.n),
    ]),
  );
  lines.push(row('weighted f1', ['', '', fmt(report.weightedF1), String(report.n)]));
  lines.push('');
  lines.push(`balanced accuracy ${fmt(report.balancedAccuracy)}   log loss ${fmt(report.logLoss)}`);
  for (const [k, v] of Object.entries(report.topK)) lines.push(`top-${k} accuracy ${fmt(v)}`);
  lines.push('', 'confusion matrix (rows: true, columns: predicted)');
  const cw = Math.max(5, ...report.confusion.flat().map((v) => String(v).length + 1));
  lines.push(''.padStart(w) + names.map((_, k) => String(k).padStart(cw)).join(''));
  report.confusion.forEach((r, k) => {
    lines.push(
      `${names[k]!.padStart(w - String(k).length - 1)} ${k}` + r.map((v) => String(v).padStart(cw)).join(''),
    );
  });
  return lines.join('\n') + '\n';
}
