/**
 * Calibration: the range of every tensor to quantize, measured on example inputs streamed batch by batch (only
 * running statistics are kept, never the activations). One ONNX Runtime session over the model with those
 * tensors as extra outputs.
 *   minmax      the smallest and largest values seen (ONNX Runtime's default).
 *   percentile  |x| clipped at its p-th percentile (default 99.999), from a 2048-bin histogram of |x|.
 *   entropy     the |x| threshold whose quantized histogram is closest to the original in KL divergence
 *               (TensorRT's method, as in ONNX Runtime's entropy calibrator).
 * The histogram methods take a second pass: the first finds each tensor's largest magnitude, so the histogram
 * bins are fixed and exact instead of re-binned as the range grows.
 */
import { GraftError } from '../errors.js';
import type { Model } from '../onnx/ir.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';

export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy'];

export type Feeds = Record<string, Tensor>;
/** Re-iterable source of input batches (a histogram method iterates it twice). */
export type FeedBatches = () => AsyncIterable<Feeds>;

export interface Range {
  min: number;
  max: number;
}

export interface CalibrateOptions {
  method?: CalibrationMethod;
  /** Percentile of |x| kept by the 'percentile' method (default 99.999). */
  percentile?: number;
  /** Histogram bins for 'percentile' and 'entropy' (default 2048). */
  bins?: number;
  session?: SessionOptions;
  /** Other tensors whose values ride along on the first pass (e.g. bias correction's input means). */
  observe?: { tensors: readonly string[]; visit: ValueVisitor };
}

/** Called with each requested tensor's values (and shape), batch by batch. */
export type ValueVisitor = (name: string, values: Float32Array, shape: readonly number[]) => void;

/** Runs `model` over every batch, calling `visit` with each requested tensor's values (and shape). */
export async function forEachValue(
  model: Model,
  tensors: readonly string[],
  batches: FeedBatches,
  options: SessionOptions,
  visit: ValueVisitor,
): Promise<number> {
  const inputs = new Set(model.graph.inputs.map((v) => v.name));
  const computed = tensors.filter((t) => !inputs.has(t));
  const have = new Set(model.graph.outputs.map((o) => o.name));
  const augmented: Model = {
    ...model,
    graph: {
      ...model.graph,
      outputs: [
        ...model.graph.outputs,
        ...computed.filter((t) => !have.has(t)).map((name) => ({ name, dtype: 'float32' as const })),
      ],
    },
  };
  const session = await Session.create(augmented, { ...options, validate: false });
  let count = 0;
  try {
    for await (const feeds of batches()) {
      const out = computed.length > 0 ? await session.run(feeds, computed) : {};
      for (const t of tensors) {
        const v = inputs.has(t) ? feeds[t] : out[t];
        if (!v || v.dtype !== 'float32') continue;
        visit(t, v.data as Float32Array, v.shape);
      }
      count++;
    }
  } finally {
    await session.release();
  }
  if (count === 0) throw new GraftError('BAD_INPUT', 'calibration needs at least one batch of examples');
  return count;
}

/** The percentile-p value of a histogram of |x| with bins of `width`. */
export function percentileOfHistogram(hist: Float64Array, width: number, p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const target = (total * p) / 100;
  let cum = 0;
  for (let i = 0; i < hist.length; i++) {
    cum += hist[i]!;
    if (cum >= target) return (i + 1) * width;
  }
  return hist.length * width;
}

/**
 * The |x| threshold minimising KL(P ‖ Q), P the histogram clipped at the threshold (outliers added to its last
 * bin) and Q that histogram squeezed into `levels` quantization levels and expanded back over P's non-empty bins.
 */
export function entropyThreshold(hist: Float64Array, width: number, levels: number): number {
  const n = hist.length;
  if (n <= levels) return n * width;
  let best = n;
  let bestKl = Infinity;
  const tail = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) tail[i] = tail[i + 1]! + hist[i]!;
  for (let i = levels; i <= n; i++) {
    const p = Float64Array.from(hist.subarray(0, i));
    p[i - 1] = p[i - 1]! + tail[i]!;
    const q = new Float64Array(i);
    const per = i / levels;
    for (let j = 0; j < levels; j++) {
      const start = Math.floor(j * per);
      const end = j === levels - 1 ? i : Math.floor((j + 1) * per);
      let sum = 0;
      let nonzero = 0;
      for (let k = start; k < end; k++) {
        sum += hist[k]!;
        if (hist[k]! > 0) nonzero++;
      }
      if (nonzero === 0) continue;
      for (let k = start; k < end; k++) if (hist[k]! > 0) q[k] = sum / nonzero;
    }
    const pSum = p.reduce((a, b) => a + b, 0);
    const qSum = q.reduce((a, b) => a + b, 0);
    if (pSum === 0 || qSum === 0) continue;
    let kl = 0;
    for (let k = 0; k < i; k++) {
      const pk = p[k]! / pSum;
      if (pk === 0) continue;
      const qk = q[k]! / qSum;
      kl += pk * Math.log(pk / (qk > 0 ? qk : 1e-12));
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return best * width;
}

/** Calibrated ranges of `tensors` (float32 values of `model`), over the batches of `batches`. */
export async function calibrate(
  model: Model,
  tensors: readonly string[],
  batches: FeedBatches,
  options: CalibrateOptions = {},
): Promise<Map<string, Range>> {
  const method = options.method ?? 'minmax';
  const session = options.session ?? {};
  const ranges = new Map<string, Range>();
  const own = new Set(tensors);
  const observed = new Set(options.observe?.tensors ?? []);
  const visited = [...new Set([...tensors, ...observed])];
  await forEachValue(model, visited, batches, session, (name, values, shape) => {
    if (observed.has(name)) options.observe!.visit(name, values, shape);
    if (!own.has(name)) return;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const r = ranges.get(name);
    ranges.set(name, r ? { min: Math.min(r.min, lo), max: Math.max(r.max, hi) } : { min: lo, max: hi });
  });
  if (method === 'minmax') return ranges;

  const bins = options.bins ?? 2048;
  const hists = new Map<string, { hist: Float64Array; width: number }>();
  for (const [name, r] of ranges) {
    const absMax = Math.max(Math.abs(r.min), Math.abs(r.max));
    if (absMax > 0) hists.set(name, { hist: new Float64Array(bins), width: absMax / bins });
  }
  await forEachValue(model, [...hists.keys()], batches, session, (name, values) => {
    const h = hists.get(name)!;
    const inv = 1 / h.width;
    for (let i = 0; i < values.length; i++) {
      const b = Math.min(bins - 1, Math.floor(Math.abs(values[i]!) * inv));
      h.hist[b] = h.hist[b]! + 1;
    }
  });
  const p = options.percentile ?? 99.999;
  if (!(p > 0 && p <= 100)) throw new GraftError('BAD_OPTION', `percentile must be in (0, 100], got ${p}`);
  for (const [name, h] of hists) {
    const r = ranges.get(name)!;
    // A tensor that is never negative quantizes [0, t] over all 256 levels; a signed one [-t, t] over 128 per side.
    const levels = r.min >= 0 ? 256 : 128;
    const t =
      method === 'percentile'
        ? percentileOfHistogram(h.hist, h.width, p)
        : entropyThreshold(h.hist, h.width, levels);
    ranges.set(name, { min: Math.max(r.min, -t), max: Math.min(r.max, t) });
  }
  return ranges;
}
