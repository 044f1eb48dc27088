/** TensorFlow kernel layouts → ONNX Conv weight layouts, and TF 'SAME'/'VALID' padding as explicit pads. */
import type { Dim } from '../onnx/ir.js';
import type { Tensor } from '../tensor.js';

/** Conv2D kernel HWIO `[kh, kw, in, out]` → OIHW. */
export function hwioToOihw(k: Tensor): Tensor {
  const [h, w, ci, co] = k.shape as [number, number, number, number];
  const src = k.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++)
          dst[((o * ci + i) * h + y) * w + x] = src[((y * w + x) * ci + i) * co + o]!;
  return { dtype: 'float32', shape: [co, ci, h, w], data: dst };
}

/** Depthwise kernel `[kh, kw, C, M]` → grouped-conv weight `[C*M, 1, kh, kw]` (group = C). */
export function depthwiseToOihw(k: Tensor): Tensor {
  const [h, w, c, m] = k.shape as [number, number, number, number];
  const src = k.data as Float32Array;
  const dst = new Float32Array(src.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let ci = 0; ci < c; ci++)
        for (let mi = 0; mi < m; mi++)
          dst[(ci * m + mi) * h * w + y * w + x] = src[((y * w + x) * c + ci) * m + mi]!;
  return { dtype: 'float32', shape: [c * m, 1, h, w], data: dst };
}

export interface Windowing {
  /** ONNX pads `[top, left, bottom, right]`, or undefined when `autoPad` must be used. */
  readonly pads: number[] | undefined;
  /** True when a spatial size is unknown and stride > 1: fall back to SAME_UPPER (TF's rule). */
  readonly autoPad: boolean;
  /** Output spatial sizes [H, W]. */
  readonly out: [Dim, Dim];
}

/**
 * TF padding for a 2-D window. 'same': out = ceil(in / s), total = max((out-1)*s + (k-1)*d + 1 - in, 0),
 * the odd pixel goes at the end. 'valid': no padding. `explicit`: [top, bottom, left, right].
 */
export function tfWindowing(
  sizes: readonly [Dim, Dim],
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: 'same' | 'valid' | { explicit: readonly [number, number, number, number] },
): Windowing {
  const begin: number[] = [];
  const end: number[] = [];
  const out: Dim[] = [];
  let autoPad = false;
  for (let i = 0; i < 2; i++) {
    const size = sizes[i]!;
    const s = strides[i]!;
    const eff = (kernel[i]! - 1) * dilations[i]! + 1;
    let b = 0;
    let e = 0;
    if (padding === 'same') {
      if (typeof size === 'number') {
        const total = Math.max((Math.ceil(size / s) - 1) * s + eff - size, 0);
        b = Math.floor(total / 2);
        e = total - b;
      } else {
        if (s !== 1) autoPad = true;
        b = Math.floor((eff - 1) / 2);
        e = eff - 1 - b;
      }
    } else if (padding !== 'valid') {
      b = padding.explicit[2 * i]!;
      e = padding.explicit[2 * i + 1]!;
    }
    begin.push(b);
    end.push(e);
    out.push(typeof size === 'number' ? Math.floor((size + b + e - eff) / s) + 1 : null);
  }
  return { pads: autoPad ? undefined : [...begin, ...end], autoPad, out: [out[0]!, out[1]!] };
}
