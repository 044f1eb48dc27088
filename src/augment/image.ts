/**
 * Seeded image augmentation on raw 8-bit pixels, before resizing and normalisation: random resized crop
 * (torchvision's RandomResizedCrop sampling; the crop is resized by the model's preprocessing), horizontal flip
 * and colour jitter (brightness, contrast, saturation). The same (seed, epoch, index) gives the same image.
 */
import sharp from 'sharp';
import { mulberry32, type Rng } from '../data/random.js';
import type { ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { isRawImage, type RawImage } from '../preprocess/image.js';

export interface AugmentOptions {
  /** Random resized crop: area fraction range and aspect-ratio range (torchvision defaults [0.08,1], [3/4,4/3]). */
  crop?: { scale?: [number, number]; ratio?: [number, number] } | false;
  /** Probability of a horizontal flip (default 0.5); 0 disables it. */
  flip?: number;
  /** Colour jitter strengths (factor drawn from [1-s, 1+s]); default 0.2 each; false disables it. */
  jitter?: { brightness?: number; contrast?: number; saturation?: number } | false;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** torchvision's RandomResizedCrop.get_params: 10 tries, then a centre crop of clamped aspect ratio. */
export function sampleCrop(
  width: number,
  height: number,
  rng: Rng,
  scale = [0.08, 1],
  ratio = [3 / 4, 4 / 3],
): Box {
  const area = width * height;
  const [lr0, lr1] = [Math.log(ratio[0]!), Math.log(ratio[1]!)];
  for (let i = 0; i < 10; i++) {
    const target = area * (scale[0]! + rng() * (scale[1]! - scale[0]!));
    const aspect = Math.exp(lr0 + rng() * (lr1 - lr0));
    const w = Math.round(Math.sqrt(target * aspect));
    const h = Math.round(Math.sqrt(target / aspect));
    if (w > 0 && h > 0 && w <= width && h <= height) {
      return { x: Math.floor(rng() * (width - w + 1)), y: Math.floor(rng() * (height - h + 1)), w, h };
    }
  }
  const r = width / height;
  const [w, h] =
    r < ratio[0]!
      ? [width, Math.round(width / ratio[0]!)]
      : r > ratio[1]!
        ? [Math.round(height * ratio[1]!), height]
        : [width, height];
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), w, h };
}

function cropFlip(img: RawImage, box: Box, flip: boolean): RawImage {
  const c = img.channels;
  const out = new Uint8Array(box.w * box.h * c);
  for (let y = 0; y < box.h; y++) {
    for (let x = 0; x < box.w; x++) {
      const sx = box.x + (flip ? box.w - 1 - x : x);
      const src = ((box.y + y) * img.width + sx) * c;
      out.set(img.data.subarray(src, src + c), (y * box.w + x) * c);
    }
  }
  return { width: box.w, height: box.h, channels: img.channels, data: out };
}

function jitter(img: RawImage, b: number, ct: number, s: number): RawImage {
  const c = img.channels;
  const colour = c >= 3;
  const d = img.data;
  const n = img.width * img.height;
  let mean = 0;
  for (let i = 0; i < n; i++)
    mean += colour ? 0.299 * d[i * c]! + 0.587 * d[i * c + 1]! + 0.114 * d[i * c + 2]! : d[i * c]!;
  mean = (mean / n) * b;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < n; i++) {
    const o = i * c;
    const bright = [0, 1, 2].map((k) => (k < c ? d[o + k]! * b : 0));
    const gray = colour ? 0.299 * bright[0]! + 0.587 * bright[1]! + 0.114 * bright[2]! : bright[0]!;
    for (let k = 0; k < c; k++) {
      if (k >= 3 || (!colour && k >= 1)) {
        out[o + k] = d[o + k]!; // alpha
        continue;
      }
      const sat = colour ? gray + (bright[k]! - gray) * s : bright[k]!;
      const v = mean + (sat - mean) * ct;
      out[o + k] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { ...img, data: out };
}

/** One augmented copy of `img`, drawn from `rng`. */
export function augmentImage(img: RawImage, rng: Rng, o: AugmentOptions = {}): RawImage {
  const box =
    o.crop === false
      ? { x: 0, y: 0, w: img.width, h: img.height }
      : sampleCrop(img.width, img.height, rng, o.crop?.scale, o.crop?.ratio);
  const flip = rng() < (o.flip ?? 0.5);
  let out = cropFlip(img, box, flip);
  if (o.jitter !== false) {
    const j = o.jitter ?? {};
    const f = (s = 0.2) => 1 - s + rng() * 2 * s;
    out = jitter(out, f(j.brightness), f(j.contrast), f(j.saturation));
  }
  return out;
}

/** Decodes any image source to raw 8-bit pixels (RGB, or gray for 1-channel raw input). */
export async function toRawImage(source: ImageSource): Promise<RawImage> {
  if (isRawImage(source)) return source;
  try {
    const { data, info } = await sharp(source)
      .rotate()
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      channels: info.channels as 1 | 3,
      data: new Uint8Array(data),
    };
  } catch (e) {
    throw new GraftError('BAD_INPUT', `cannot decode image for augmentation`, {}, { cause: e });
  }
}

/** The generator for example `index` in `epoch`: independent of batch size and order. */
export function augmentRng(seed: number, epoch: number, index: number): Rng {
  return mulberry32(
    (Math.imul(seed ^ 0x9e3779b9, 31) +
      Math.imul(epoch + 1, 0x85ebca6b) +
      Math.imul(index + 1, 0xc2b2ae35)) >>>
      0,
  );
}
