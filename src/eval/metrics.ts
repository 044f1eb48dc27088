/**
 * Classification metrics from an N×C probability matrix and integer labels, with scikit-learn semantics
 * (zero_division = 0; macro averages over the classes present in labels or predictions).
 */
import { check } from '../errors.js';

export interface ClassStats {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** Validates shapes and returns the number of classes. */
export function numClassesOf(
  probs: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses?: number,
): number {
  const n = labels.length;
  check(n > 0, 'BAD_INPUT', 'metrics need at least one sample');
  check(probs.length % n === 0, 'SHAPE_MISMATCH', `probs length ${probs.length} is not a multiple of N=${n}`);
  const c = numClasses ?? probs.length / n;
  check(c * n === probs.length, 'SHAPE_MISMATCH', `probs length ${probs.length} ≠ N=${n} × C=${c}`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    check(Number.isInteger(y) && y >= 0 && y < c, 'BAD_INPUT', `label ${y} at ${i} is outside [0, ${c})`);
  }
  return c;
}

/** Row-wise argmax (first maximum wins). */
export function argmaxRows(probs: ArrayLike<number>, n: number): Int32Array {
  const c = probs.length / n;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (probs[i * c + j]! > probs[i * c + best]!) best = j;
    out[i] = best;
  }
  return out;
}

export function accuracy(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const pred = argmaxRows(probs, labels.length);
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) hits++;
  return hits / labels.length;
}

/**
 * Fraction of samples whose label is among the k most probable classes. Ties are ranked as sklearn's
 * top_k_accuracy_score does: among equal probabilities the higher class index ranks first.
 */
export function topKAccuracy(probs: ArrayLike<number>, labels: ArrayLike<number>, k: number): number {
  const n = labels.length;
  const c = numClassesOf(probs, labels);
  check(k >= 1, 'BAD_OPTION', `top-k needs k ≥ 1, got ${k}`);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const pTrue = probs[i * c + labels[i]!]!;
    let above = 0;
    for (let j = 0; j < c; j++) {
      const p = probs[i * c + j]!;
      if (p > pTrue || (p === pTrue && j > labels[i]!)) above++;
    }
    if (above < k) hits++;
  }
  return hits / n;
}

/** confusion[true][predicted] counts. */
export function confusionMatrix(
  labels: ArrayLike<number>,
  predictions: ArrayLike<number>,
  c: number,
): number[][] {
  const m = Array.from({ length: c }, () => new Array<number>(c).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predictions[i]!]!++;
  return m;
}

/** Per-class precision/recall/F1/support from a confusion matrix (0 where undefined). */
export function perClassStats(confusion: number[][]): ClassStats[] {
  const c = confusion.length;
  return confusion.map((row, k) => {
    const tp = row[k]!;
    const support = row.reduce((a, b) => a + b, 0);
    let predicted = 0;
    for (let i = 0; i < c; i++) predicted += confusion[i]![k]!;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/** Classes that occur among the labels or the predictions (sklearn's default label set for averages). */
export function presentClasses(confusion: number[][]): number[] {
  const out: number[] = [];
  confusion.forEach((row, k) => {
    let predicted = 0;
    for (const r of confusion) predicted += r[k]!;
    if (predicted > 0 || row.some((v) => v > 0)) out.push(k);
  });
  return out;
}

export interface Averages {
  macroPrecision: number;
  macroRecall: number;
  macroF1: number;
  weightedF1: number;
  /** Mean recall over classes with support. */
  balancedAccuracy: number;
}

export function averages(stats: ClassStats[], present: number[]): Averages {
  const mean = (f: (s: ClassStats) => number, ks: number[]) =>
    ks.length ? ks.reduce((a, k) => a + f(stats[k]!), 0) / ks.length : 0;
  const total = stats.reduce((a, s) => a + s.support, 0);
  const supported = stats.flatMap((s, k) => (s.support > 0 ? [k] : []));
  return {
    macroPrecision: mean((s) => s.precision, present),
    macroRecall: mean((s) => s.recall, present),
    macroF1: mean((s) => s.f1, present),
    weightedF1: total ? stats.reduce((a, s) => a + s.f1 * s.support, 0) / total : 0,
    balancedAccuracy: mean((s) => s.recall, supported),
  };
}

export function macroF1(probs: ArrayLike<number>, labels: ArrayLike<number>): number {
  const c = numClassesOf(probs, labels);
  const conf = confusionMatrix(labels, argmaxRows(probs, labels.length), c);
  return averages(perClassStats(conf), presentClasses(conf)).macroF1;
}

/**
 * Mean negative log-likelihood: probabilities are clipped to [eps, 1-eps] and each row renormalised
 * (sklearn's log_loss). Default eps 1e-7, which suits float32 probabilities.
 */
export function logLoss(probs: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-7): number {
  const n = labels.length;
  const c = numClassesOf(probs, labels);
  const clip = (p: number) => Math.min(1 - eps, Math.max(eps, p));
  let total = 0;
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < c; j++) sum += clip(probs[i * c + j]!);
    total -= Math.log(clip(probs[i * c + labels[i]!]!) / sum);
  }
  return total / n;
}
