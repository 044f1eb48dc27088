/** One pass from 8-bit pixels to the model's normalised float layout. */
import type { ImagePreprocess } from '../models/spec.js';

/**
 * Builds, per output channel, a 256-entry table of `(p * scale - mean[c]) / std[c]`, so that normalising is a
 * lookup and gives exactly the formula's float32 value.
 */
export function normalizationTables(spec: ImagePreprocess): Float32Array[] {
  const known = tablesBySpec.get(spec);
  if (known) return known;
  const tables: Float32Array[] = [];
  for (let c = 0; c < spec.channels; c++) {
    const mean = spec.mean.length === 1 ? spec.mean[0]! : spec.mean[c]!;
    const std = spec.std.length === 1 ? spec.std[0]! : spec.std[c]!;
    const t = new Float32Array(256);
    for (let p = 0; p < 256; p++) t[p] = (p * spec.scale - mean) / std;
    tables.push(t);
  }
  tablesBySpec.set(spec, tables);
  return tables;
}

/** Specs are plain objects that a model keeps for its lifetime: their tables are built once per object. */
const tablesBySpec = new WeakMap<ImagePreprocess, Float32Array[]>();

/**
 * Writes one image into `out` starting at `offset`, in the spec's layout (HWC for NHWC, CHW for NCHW).
 * `pixels` is HWC with `srcChannels` interleaved channels (1..4); gray is replicated to RGB, RGB is reduced to
 * gray with Rec.601 luma, and an alpha channel (already flattened upstream) is ignored.
 */
export function writeNormalized(
  pixels: Uint8Array,
  width: number,
  height: number,
  srcChannels: number,
  spec: ImagePreprocess,
  out: Float32Array,
  offset = 0,
  tables: Float32Array[] = normalizationTables(spec),
): void {
  const n = width * height;
  const outC = spec.channels;
  const colour = srcChannels >= 3;
  const nchw = spec.layout === 'NCHW';
  if (outC === 3 && colour) {
    // The common case (RGB or RGBA in, RGB out) as straight-line lookups, without per-element branches.
    const [t0, t1, t2] = tables as [Float32Array, Float32Array, Float32Array];
    if (nchw) rgbPlanar(pixels, n, srcChannels, out, offset, t0, t1, t2);
    else rgbInterleaved(pixels, n, srcChannels, out, offset, t0, t1, t2);
    return;
  }
  for (let i = 0; i < n; i++) {
    const s = i * srcChannels;
    for (let c = 0; c < outC; c++) {
      let p: number;
      if (outC === 3) p = colour ? pixels[s + c]! : pixels[s]!;
      else if (colour) p = Math.round(0.299 * pixels[s]! + 0.587 * pixels[s + 1]! + 0.114 * pixels[s + 2]!);
      else p = pixels[s]!;
      const at = nchw ? offset + c * n + i : offset + i * outC + c;
      out[at] = tables[c]![p]!;
    }
  }
}

function rgbInterleaved(
  px: Uint8Array,
  n: number,
  step: number,
  out: Float32Array,
  offset: number,
  t0: Float32Array,
  t1: Float32Array,
  t2: Float32Array,
): void {
  for (let i = 0, s = 0, o = offset; i < n; i++, s += step, o += 3) {
    out[o] = t0[px[s]!]!;
    out[o + 1] = t1[px[s + 1]!]!;
    out[o + 2] = t2[px[s + 2]!]!;
  }
}

function rgbPlanar(
  px: Uint8Array,
  n: number,
  step: number,
  out: Float32Array,
  offset: number,
  t0: Float32Array,
  t1: Float32Array,
  t2: Float32Array,
): void {
  const g = offset + n;
  const b = offset + 2 * n;
  for (let i = 0, s = 0; i < n; i++, s += step) {
    out[offset + i] = t0[px[s]!]!;
    out[g + i] = t1[px[s + 1]!]!;
    out[b + i] = t2[px[s + 2]!]!;
  }
}
