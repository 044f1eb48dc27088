/** Resize-and-crop arithmetic, kept apart from sharp so it can be tested and reused (e.g. by a browser build). */
import { GraftError } from '../errors.js';
import type { ImagePreprocess } from '../models/spec.js';

export interface ResizePlan {
  /** Size after the resize step (before the crop). */
  readonly resizeWidth: number;
  readonly resizeHeight: number;
  /** Region cut out of the resized image; null when the resize already gives the final size. */
  readonly crop: {
    readonly left: number;
    readonly top: number;
    readonly width: number;
    readonly height: number;
  } | null;
}

/**
 * Plans the geometry for an image of `width`x`height` (after EXIF orientation).
 *
 * - crop 'center': the shorter side becomes `resizeShorter` and the longer side keeps the aspect ratio,
 *   rounded down (torchvision's `Resize(int)`). If that is smaller than `size` in either dimension, the image
 *   is scaled up just enough to cover it (rather than padding). Then the centre `size` region is cut out, with
 *   the offset rounded down (`(resized - size) >> 1`).
 * - crop 'none': a plain resize to `size`, ignoring the aspect ratio; `resizeShorter` is not used.
 */
export function planResize(width: number, height: number, spec: ImagePreprocess): ResizePlan {
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

/** Checks that a spec is usable; throws BAD_OPTION naming the bad field. */
export function validateImageSpec(spec: ImagePreprocess): void {
  const bad = (msg: string): never => {
    throw new GraftError('BAD_OPTION', `invalid image preprocess spec: ${msg}`, { spec });
  };
  const [h, w] = spec.size;
  if (!(Number.isInteger(h) && Number.isInteger(w) && h > 0 && w > 0))
    bad(`size must be two positive integers`);
  if (spec.crop === 'center' && !(Number.isInteger(spec.resizeShorter) && spec.resizeShorter > 0)) {
    bad('resizeShorter must be a positive integer');
  }
  if (spec.channels !== 1 && spec.channels !== 3) bad('channels must be 1 or 3');
  for (const [k, v] of [
    ['mean', spec.mean],
    ['std', spec.std],
  ] as const) {
    if (v.length !== 1 && v.length !== spec.channels) bad(`${k} must have 1 or ${spec.channels} entries`);
  }
  if (spec.std.some((s) => !(s !== 0 && Number.isFinite(s)))) bad('std entries must be finite and non-zero');
  if (!Number.isFinite(spec.scale)) bad('scale must be finite');
}

/** Maps the spec's interpolation name to sharp's kernel name. */
export function sharpKernel(interpolation: ImagePreprocess['interpolation']): 'nearest' | 'linear' | 'cubic' {
  switch (interpolation) {
    case 'nearest':
      return 'nearest';
    case 'bilinear':
      return 'linear';
    case 'bicubic':
      return 'cubic';
  }
}
