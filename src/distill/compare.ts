/**
 * Teacher and student side by side on the same held-out images: accuracy, agreement (how often the student
 * predicts the teacher's class), parameters, ONNX file size, and images per second on this machine (each model
 * run on the same preprocessed batch, rounds alternating which goes first, median of the rounds).
 */
import type { ImageSource } from '../data/types.js';
import type { ImagePreprocess } from '../models/spec.js';
import type { Model } from '../onnx/ir.js';
import { preprocessBatch } from '../preprocess/image.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';

export interface SideFigures {
  accuracy: number;
  parameters: number;
  bytes: number;
  /** Median over the timed rounds; absent when not measured. */
  imagesPerSecond?: number;
}

export interface DistillComparison {
  teacher: SideFigures;
  student: SideFigures & { agreement: number };
  /** student / teacher accuracy, teacher / student time per image, teacher / student size and parameters. */
  ratios: { accuracy: number; speed?: number; bytes: number; parameters: number };
  /** Per-round speed ratios (teacher time / student time). */
  speedRounds: number[];
  examples: number;
}

/**
 * The comparison record from both sides' figures and, when measured, their speeds (examples per second —
 * images or texts; the field keeps its image name).
 */
export function sideBySide(
  t: Omit<SideFigures, 'imagesPerSecond'>,
  s: Omit<SideFigures, 'imagesPerSecond'> & { agreement: number },
  speed: { teacher: number; student: number; ratios: number[] } | undefined,
  examples: number,
): DistillComparison {
  return {
    teacher: { ...t, ...(speed ? { imagesPerSecond: speed.teacher } : {}) },
    student: { ...s, ...(speed ? { imagesPerSecond: speed.student } : {}) },
    ratios: {
      accuracy: s.accuracy / t.accuracy,
      ...(speed ? { speed: speed.student / speed.teacher } : {}),
      bytes: t.bytes / s.bytes,
      parameters: t.parameters / s.parameters,
    },
    speedRounds: speed?.ratios ?? [],
    examples,
  };
}

/** Float weights of a model (initializer elements). */
export function countParameters(m: Model): number {
  let n = 0;
  for (const t of m.graph.initializers.values())
    if (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16') n += t.data.length;
  return n;
}

const argmaxRows = (p: ArrayLike<number>, rows: number): Int32Array => {
  const width = p.length / rows;
  return Int32Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < width; c++) if (p[r * width + c]! > p[r * width + best]!) best = c;
    return best;
  });
};

/** Row-wise softmax of logits [rows, width] (probabilities in the same layout). */
export function softmaxRows(logits: ArrayLike<number>, rows: number): Float32Array {
  const width = logits.length / rows;
  const out = new Float32Array(logits.length);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let c = 0; c < width; c++) max = Math.max(max, logits[r * width + c]!);
    let sum = 0;
    for (let c = 0; c < width; c++) sum += out[r * width + c] = Math.exp(logits[r * width + c]! - max);
    for (let c = 0; c < width; c++) out[r * width + c]! /= sum;
  }
  return out;
}

export function accuracyOf(scores: ArrayLike<number>, labels: Int32Array): number {
  const pred = argmaxRows(scores, labels.length);
  let ok = 0;
  labels.forEach((l, i) => (ok += pred[i] === l ? 1 : 0));
  return labels.length ? ok / labels.length : NaN;
}

export function agreementOf(a: ArrayLike<number>, b: ArrayLike<number>, rows: number): number {
  const pa = argmaxRows(a, rows);
  const pb = argmaxRows(b, rows);
  let same = 0;
  pa.forEach((v, i) => (same += v === pb[i] ? 1 : 0));
  return rows ? same / rows : NaN;
}

export interface Runnable {
  model: Model;
  inputName: string;
  output: string;
  preprocess: ImagePreprocess;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** One side of a speed comparison: a model, the feeds of one batch, and the output to fetch. */
export interface TimedSide {
  model: Model;
  feeds: Record<string, Tensor>;
  output: string;
}

/**
 * Examples per second of each side on its batch of `rows` examples: `rounds` alternating rounds after one
 * warm-up run each, median of the rounds; `ratios` are per-round time ratios (first side / second).
 */
export async function measureFeedsSpeed(
  a: TimedSide,
  b: TimedSide,
  rows: number,
  rounds: number,
  session?: SessionOptions,
): Promise<{ teacher: number; student: number; ratios: number[] }> {
  const sides = await Promise.all(
    [a, b].map(async (r) => ({ r, session: await Session.create(r.model, session) })),
  );
  try {
    const time = async (i: number): Promise<number> => {
      const s = sides[i]!;
      const t0 = performance.now();
      await s.session.run(s.r.feeds, [s.r.output]);
      return (performance.now() - t0) / 1000;
    };
    await time(0);
    await time(1);
    const seconds: [number[], number[]] = [[], []];
    for (let k = 0; k < rounds; k++) {
      const order = k % 2 === 0 ? [0, 1] : [1, 0];
      for (const i of order) seconds[i]!.push(await time(i));
    }
    const ratios = seconds[0].map((t, k) => t / seconds[1][k]!);
    return { teacher: rows / median(seconds[0]), student: rows / median(seconds[1]), ratios };
  } finally {
    await Promise.all(sides.map((s) => s.session.release()));
  }
}

/** Images per second of each model on `images` (one batch), `rounds` alternating rounds after a warm-up each. */
export async function measureSpeed(
  teacher: Runnable,
  student: Runnable,
  images: readonly ImageSource[],
  rounds: number,
  session?: SessionOptions,
): Promise<{ teacher: number; student: number; ratios: number[] }> {
  const side = async (r: Runnable): Promise<TimedSide> => ({
    model: r.model,
    feeds: { [r.inputName]: await preprocessBatch(images, r.preprocess) },
    output: r.output,
  });
  return measureFeedsSpeed(await side(teacher), await side(student), images.length, rounds, session);
}
