/**
 * Linear quantization arithmetic, as ONNX's QuantizeLinear/DequantizeLinear define it:
 *   q = saturate(round_half_to_even(x / scale) + zero_point),   x ≈ (q - zero_point) * scale.
 * Activations get an asymmetric range that always contains 0 (so zero padding is exact); weights a symmetric
 * one over [-127, 127] (zero point 0), per output channel or per tensor; biases int32 at input_scale ×
 * weight_scale, the scale the integer kernels accumulate in.
 */
import { GraftError } from '../errors.js';

export type QuantType = 'int8' | 'uint8';

export const QRANGE: Readonly<Record<QuantType, { min: number; max: number }>> = {
  int8: { min: -128, max: 127 },
  uint8: { min: 0, max: 255 },
};

/** Quantization parameters of one tensor: one scale and zero point, or one per slice along `axis`. */
export interface QuantParams {
  type: QuantType;
  scale: Float32Array;
  zeroPoint: Int32Array;
  /** Set for per-channel parameters. */
  axis?: number;
}

/** Rounds half to even, like ONNX (and numpy's rint). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const f32 = Math.fround;

/**
 * Asymmetric parameters for a calibrated range: the range is widened to contain 0, scale = (max - min) /
 * (qmax - qmin), and the zero point is where 0 lands (rounded, so 0 is exactly representable).
 */
export function activationParams(min: number, max: number, type: QuantType = 'int8'): QuantParams {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max)
    throw new GraftError('BAD_INPUT', `cannot quantize the range [${min}, ${max}]`);
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const { min: qmin, max: qmax } = QRANGE[type];
  const scale = hi > lo ? f32((hi - lo) / (qmax - qmin)) : 1;
  const zp = hi > lo ? Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - lo / scale))) : 0;
  return { type, scale: Float32Array.of(scale), zeroPoint: Int32Array.of(zp) };
}

/** Symmetric int8 weight scale for a largest magnitude: absmax / 127 (1 for an all-zero slice). */
export function symmetricScale(absMax: number): number {
  return absMax > 0 ? f32(absMax / 127) : 1;
}

/** Per-slice largest magnitudes of `data` (shape `shape`) along `axis`. */
export function absMaxAlong(data: Float32Array, shape: readonly number[], axis: number): Float32Array {
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    const v = Math.abs(data[i]!);
    if (v > out[c]!) out[c] = v;
  }
  return out;
}

/** Symmetric weight parameters: per channel along `axis`, or (axis undefined) one scale for the tensor. */
export function weightParams(data: Float32Array, shape: readonly number[], axis?: number): QuantParams {
  if (axis === undefined) {
    let m = 0;
    for (const v of data) m = Math.max(m, Math.abs(v));
    return { type: 'int8', scale: Float32Array.of(symmetricScale(m)), zeroPoint: new Int32Array(1) };
  }
  const scale = Float32Array.from(absMaxAlong(data, shape, axis), symmetricScale);
  return { type: 'int8', scale, zeroPoint: new Int32Array(scale.length), axis };
}

/** The slice index of every element (0 for per-tensor parameters). */
function channelOf(shape: readonly number[], axis: number | undefined): (i: number) => number {
  if (axis === undefined) return () => 0;
  const channels = shape[axis]!;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return (i) => Math.floor(i / inner) % channels;
}

/** QuantizeLinear on a float array; weights use the restricted range [-127, 127]. */
export function quantize(
  data: Float32Array,
  shape: readonly number[],
  p: QuantParams,
  restricted = false,
): Int8Array | Uint8Array {
  const { min, max } = QRANGE[p.type];
  const lo = restricted && p.type === 'int8' ? -127 : min;
  const out = p.type === 'int8' ? new Int8Array(data.length) : new Uint8Array(data.length);
  const ch = channelOf(shape, p.axis);
  for (let i = 0; i < data.length; i++) {
    const c = ch(i);
    // x / scale rounded to float32 first, as ONNX's QuantizeLinear computes it (ties then round alike).
    const q = roundHalfEven(Math.fround(data[i]! / p.scale[c]!)) + p.zeroPoint[c]!;
    out[i] = Math.min(max, Math.max(lo, q));
  }
  return out;
}

/** DequantizeLinear. */
export function dequantize(
  q: Int8Array | Uint8Array | Int32Array,
  shape: readonly number[],
  scale: Float32Array,
  zeroPoint: Int32Array,
  axis?: number,
): Float32Array {
  const out = new Float32Array(q.length);
  const ch = channelOf(shape, axis);
  for (let i = 0; i < q.length; i++) {
    const c = ch(i);
    out[i] = (q[i]! - zeroPoint[c]!) * scale[c]!;
  }
  return out;
}

/** int32 bias at scale input_scale × weight_scale[c] (zero point 0); c runs over the bias elements. */
export function quantizeBias(
  bias: Float32Array,
  inputScale: number,
  weightScale: Float32Array,
): { data: Int32Array; scale: Float32Array } {
  const scale = Float32Array.from(bias, (_, c) =>
    f32(inputScale * weightScale[weightScale.length === 1 ? 0 : c]!),
  );
  const data = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const q = roundHalfEven(bias[c]! / scale[c]!);
    data[c] = Math.min(2147483647, Math.max(-2147483648, q));
  }
  return { data, scale };
}
