/**
 * graft's image preprocessing, for the browser: the same geometry (src/preprocess/image-geometry.ts) and the same
 * normalisation (src/preprocess/image-normalize.ts), as pure functions over RGBA pixels. No DOM, no imports, so
 * Node tests can check it against graft directly.
 */

/** The fields of graft.json's `preprocess` (an ImagePreprocess) that the page uses. */
export interface ImageSpec {
  readonly kind: 'image';
  readonly size: readonly [number, number];
  readonly resizeShorter: number;
  readonly crop: 'center' | 'none';
  readonly interpolation: 'bilinear' | 'bicubic' | 'nearest';
  readonly layout: 'NHWC' | 'NCHW';
  readonly channels: 1 | 3;
  readonly scale: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** 8-bit RGBA pixels, row-major (what canvas getImageData returns). */
export interface RgbaPixels {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray | Uint8Array;
}

export interface ResizePlan {
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  readonly crop: {
    readonly left: number;
    readonly top: number;
    readonly width: number;
    readonly height: number;
  } | null;
}

/**
 * Resize shorter side to `resizeShorter` (longer side rounded down; scaled up to cover `size` if needed), then
 * centre crop with offsets `(resized - size) >> 1`; crop 'none' is a plain resize to `size`. Same as graft.
 */
export function planResize(width: number, height: number, spec: ImageSpec): ResizePlan {
  const [outH, outW] = spec.size;
  if (spec.crop === 'none') return { resizeWidth: outW, resizeHeight: outH, crop: null };
  const short = Math.min(width, height);
  const r = spec.resizeShorter;
  let rw = width <= height ? r : Math.floor((r * width) / short);
  let rh = width <= height ? Math.floor((r * height) / short) : r;
  if (rw < outW || rh < outH) {
    const s = Math.max(outW / width, outH / height);
    rw = Math.max(outW, Math.round(width * s));
    rh = Math.max(outH, Math.round(height * s));
  }
  if (rw === outW && rh === outH) return { resizeWidth: rw, resizeHeight: rh, crop: null };
  return {
    resizeWidth: rw,
    resizeHeight: rh,
    crop: { left: (rw - outW) >> 1, top: (rh - outH) >> 1, width: outW, height: outH },
  };
}

/** Per channel, `(p * scale - mean[c]) / std[c]` for p = 0..255, rounded to float32 once, as graft does. */
export function normalizationTables(spec: ImageSpec): Float32Array[] {
  const tables: Float32Array[] = [];
  for (let c = 0; c < spec.channels; c++) {
    const mean = spec.mean.length === 1 ? spec.mean[0]! : spec.mean[c]!;
    const std = spec.std.length === 1 ? spec.std[0]! : spec.std[c]!;
    const t = new Float32Array(256);
    for (let p = 0; p < 256; p++) t[p] = (p * spec.scale - mean) / std;
    tables.push(t);
  }
  return tables;
}

const srgbToLinear = (s: number): number => (s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4);
const linearToSrgb = (y: number): number => (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
/** Linear light of each 8-bit sRGB level. */
const LINEAR = Array.from({ length: 256 }, (_, v) => srgbToLinear(v / 255));
/** 8-bit sRGB level of linear light i/255 (libvips' 256-entry table; one spare entry for interpolation). */
const ENCODE = Array.from({ length: 257 }, (_, i) => Math.round(255 * linearToSrgb(Math.min(1, i / 255))));

/**
 * Gray level as graft gets it from sharp's greyscale() (libvips B_W): Rec.709 luminance in linear light, encoded
 * back to sRGB through libvips' 256-entry table with linear interpolation, then rounded.
 */
export function grayLevel(r: number, g: number, b: number): number {
  const y = Math.min(
    255,
    Math.max(0, (0.2126 * LINEAR[r]! + 0.7152 * LINEAR[g]! + 0.0722 * LINEAR[b]!) * 255),
  );
  const i = Math.floor(y);
  const f = y - i;
  return Math.round((1 - f) * ENCODE[i]! + f * ENCODE[i + 1]!);
}

/**
 * Normalises RGBA pixels that already have the model's input size into one image of the input tensor (HWC for
 * NHWC, CHW for NCHW). Alpha is composited onto `background` (graft's default is white); one-channel models get
 * graft's gray level (see grayLevel).
 */
export function normalizePixels(px: RgbaPixels, spec: ImageSpec, background = 255): Float32Array {
  const [h, w] = spec.size;
  if (px.width !== w || px.height !== h) {
    throw new Error(`expected ${w}x${h} pixels, got ${px.width}x${px.height} (resize first)`);
  }
  const tables = normalizationTables(spec);
  const n = w * h;
  const outC = spec.channels;
  const out = new Float32Array(n * outC);
  const nchw = spec.layout === 'NCHW';
  const rgb = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const a = px.data[i * 4 + 3]!;
    for (let c = 0; c < 3; c++) {
      const v = px.data[i * 4 + c]!;
      rgb[c] = a === 255 ? v : Math.round((v * a + background * (255 - a)) / 255);
    }
    for (let c = 0; c < outC; c++) {
      const p = outC === 3 ? rgb[c]! : grayLevel(rgb[0]!, rgb[1]!, rgb[2]!);
      out[nchw ? c * n + i : i * outC + c] = tables[c]![p]!;
    }
  }
  return out;
}

/** The input tensor's shape for one image. */
export function inputShape(spec: ImageSpec): number[] {
  const [h, w] = spec.size;
  return spec.layout === 'NCHW' ? [1, spec.channels, h, w] : [1, h, w, spec.channels];
}

/** The `k` most probable classes, most probable first. */
export function topK(
  probs: ArrayLike<number>,
  labels: readonly string[],
  k = 3,
): { label: string; probability: number }[] {
  const order = Array.from({ length: probs.length }, (_, i) => i).sort((a, b) => probs[b]! - probs[a]!);
  return order.slice(0, k).map((i) => ({ label: labels[i] ?? String(i), probability: probs[i]! }));
}
