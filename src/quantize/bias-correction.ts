/**
 * Bias correction (Nagel et al. 2019, "Data-Free Quantization", section 4.2, with the input means measured on
 * the calibration data rather than derived from batch-norm statistics): rounding a Conv's weights to int8 shifts
 * the mean of its output by ΔW · E[x], ΔW = dequantize(quantize(W)) − W. The shift is systematic, so it adds up
 * layer after layer; subtracting it from the Conv's bias before the bias is quantized cancels it on average.
 * E[x] is the mean of each input channel over the calibration batches (and every spatial position), streamed.
 */
import { cloneModel, getAttr, type Model, type Node } from '../onnx/ir.js';
import type { SessionOptions } from '../runtime/session.js';
import { forEachValue, type FeedBatches, type ValueVisitor } from './calibrate.js';
import { dequantize, quantize, weightParams } from './params.js';

/** Convs whose bias can absorb a correction: float constant weight and bias. */
export function correctableConvs(model: Model): Node[] {
  const g = model.graph;
  return g.nodes.filter((n) => {
    if (n.opType !== 'Conv' || (n.domain !== '' && n.domain !== 'ai.onnx')) return false;
    const w = g.initializers.get(n.inputs[1] ?? '');
    const b = g.initializers.get(n.inputs[2] ?? '');
    return !!w && !!b && w.dtype === 'float32' && b.dtype === 'float32' && w.shape.length >= 3;
  });
}

/**
 * Per-channel (axis 1) means of `tensors`, accumulated from the values a pass over the calibration batches visits:
 * calibration's own pass carries it (see `observe` in calibrate.ts), so measuring costs no extra forward pass.
 */
export function channelMeanAccumulator(tensors: readonly string[]): {
  tensors: readonly string[];
  visit: ValueVisitor;
  means: () => Map<string, Float64Array>;
} {
  const sums = new Map<string, { sum: Float64Array; count: number }>();
  const visit: ValueVisitor = (name, values, shape) => {
    const channels = shape[1] ?? 1;
    const inner = shape.slice(2).reduce((a, b) => a * b, 1);
    const s = sums.get(name) ?? { sum: new Float64Array(channels), count: 0 };
    for (let i = 0; i < values.length; i++) {
      const c = Math.floor(i / inner) % channels;
      s.sum[c] = s.sum[c]! + values[i]!;
    }
    s.count += values.length / channels;
    sums.set(name, s);
  };
  const means = () =>
    new Map([...sums].map(([name, s]) => [name, s.sum.map((v) => v / Math.max(1, s.count))]));
  return { tensors, visit, means };
}

/** Mean of every channel (axis 1) of each tensor in `tensors` over the batches: tensor → per-channel mean. */
export async function channelMeans(
  model: Model,
  tensors: readonly string[],
  batches: FeedBatches,
  session: SessionOptions = {},
): Promise<Map<string, Float64Array>> {
  const acc = channelMeanAccumulator(tensors);
  await forEachValue(model, tensors, batches, session, acc.visit);
  return acc.means();
}

/**
 * A copy of `model` in which each Conv of `nodes` (names) has bias b − ΔW · E[x], ΔW its int8 weight rounding
 * error (per output channel when `perChannel`, as insertQdq quantizes it) and E[x] `means` of its input.
 */
export function correctBiases(
  model: Model,
  means: ReadonlyMap<string, Float64Array>,
  nodes: ReadonlySet<string>,
  perChannel: boolean,
): Model {
  const m = cloneModel(model);
  const g = m.graph;
  for (const n of correctableConvs(m)) {
    const mean = means.get(n.inputs[0]!);
    if (!nodes.has(n.name) || !mean) continue;
    const w = g.initializers.get(n.inputs[1]!)!;
    const bias = g.initializers.get(n.inputs[2]!)!;
    const data = w.data as Float32Array;
    const p = weightParams(data, w.shape, perChannel ? 0 : undefined);
    const rounded = dequantize(quantize(data, w.shape, p, true), w.shape, p.scale, p.zeroPoint, p.axis);
    const [outChannels, perGroupIn] = [w.shape[0]!, w.shape[1]!];
    const kernel = w.shape.slice(2).reduce((a, b) => a * b, 1);
    const groups = getAttr(n, 'group', 'int') ?? 1;
    const outPerGroup = outChannels / groups;
    if (mean.length !== perGroupIn * groups) continue;
    const corrected = Float32Array.from(bias.data as Float32Array);
    for (let o = 0; o < outChannels; o++) {
      const firstIn = Math.floor(o / outPerGroup) * perGroupIn;
      let shift = 0;
      for (let i = 0; i < perGroupIn; i++) {
        let dw = 0;
        const base = (o * perGroupIn + i) * kernel;
        for (let k = 0; k < kernel; k++) dw += rounded[base + k]! - data[base + k]!;
        shift += dw * mean[firstIn + i]!;
      }
      corrected[o] = corrected[o]! - shift;
    }
    // A bias initializer may be shared: the corrected one gets its own name.
    const name = `${n.inputs[2]!}_bias_corrected_${n.name}`;
    g.initializers.set(name, { dtype: 'float32', shape: [...bias.shape], data: corrected });
    n.inputs[2] = name;
  }
  for (const name of [...g.initializers.keys()])
    if (!g.nodes.some((n) => n.inputs.includes(name)) && !g.inputs.some((v) => v.name === name))
      g.initializers.delete(name);
  return m;
}
