/**
 * Seeded image augmentation on raw 8-bit pixels, before resizing and normalisation: random resized crop
 * (torchvision's RandomResizedCrop sampling; the crop is resized by the model's preprocessing), horizontal flip
 * and colour jitter (brightness, contrast, saturation). The same (seed, epoch, index) gives the same image.
 *
 * The defaults suit the data rather than ImageNet: crops keep at least half the image (torchvision's 8% crops
 * of a digit or a product photo often cut the object out), colour jitter applies to colour images only (a grey
 * image stays grey), and flips are opt-in: whether a mirrored image keeps its label (a cat: yes; a digit, a
 * letter, a left/right sign: no) is a property of the labels that pixels do not reveal, and a wrong flip
 * teaches the head label noise while a missing one only forgoes some variety.
 */
import sharp from 'sharp';
import { mulberry32, type Rng } from '../data/random.js';
import type { ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { isRawImage, type RawImage } from '../preprocess/image.js';

export interface AugmentOptions {
  /** Random resized crop: area fraction range and aspect-ratio range (default [0.5,1], [3/4,4/3]). */
  crop?: { scale?: [number, number]; ratio?: [number, number] } | false;
  /** Probability of a horizontal flip (default 0: opt-in, see above). */
  flip?: number;
  /**
   * Colour jitter strengths (factor drawn from [1-s, 1+s]); default 0.2 each on colour images and none on grey
   * ones (one channel, or all channels equal); false disables it.
   */
  jitter?: { brightness?: number; contrast?: number; saturation?: number } | false;
}

/** Every setting of an augmentation, defaults filled in (jitter still depends on the image: grey gets none). */
export interface ResolvedAugment {
  crop: { scale: [number, number]; ratio: [number, number] } | false;
  flip: number;
  jitter: { brightness: number; contrast: number; saturation: number } | false;
}

const DEFAULT_CROP = { scale: [0.5, 1] as [number, number], ratio: [3 / 4, 4 / 3] as [number, number] };
const DEFAULT_JITTER = { brightness: 0.2, contrast: 0.2, saturation: 0.2 };

export const AUGMENT_DEFAULTS: ResolvedAugment = { crop: DEFAULT_CROP, flip: 0, jitter: DEFAULT_JITTER };

export function resolveAugment(o: AugmentOptions = {}): ResolvedAugment {
  const out: ResolvedAugment = {
    crop: o.crop === false ? false : { ...DEFAULT_CROP, ...o.crop },
    flip: o.flip ?? 0,
    jitter: o.jitter === false ? false : { ...DEFAULT_JITTER, ...o.jitter },
  };
  const [s0, s1] = out.crop ? out.crop.scale : [1, 1];
  const [r0, r1] = out.crop ? out.crop.ratio : [1, 1];
  if (!(s0 > 0 && s0 <= s1 && s1 <= 1) || !(r0 > 0 && r0 <= r1))
    throw new GraftError(
      'BAD_OPTION',
      `augmentation crop: scale needs 0 < min <= max <= 1 and ratio 0 < min <= max (got scale [${s0}, ${s1}], ratio [${r0}, ${r1}])`,
    );
  if (!(out.flip >= 0 && out.flip <= 1))
    throw new GraftError('BAD_OPTION', `augmentation flip is a probability in [0, 1] (got ${out.flip})`);
  const strengths = out.jitter ? Object.values(out.jitter) : [];
  if (strengths.some((v) => !(v >= 0 && v <= 1)))
    throw new GraftError('BAD_OPTION', 'augmentation jitter strengths are in [0, 1]');
  return out;
}

/** True when the image carries no colour: one channel, or all of R, G and B equal at every pixel. */
export function isGreyImage(img: RawImage): boolean {
  if (img.channels < 3) return true;
  const d = img.data;
  const c = img.channels;
  for (let o = 0; o < d.length; o += c) if (d[o] !== d[o + 1] || d[o] !== d[o + 2]) return false;
  return true;
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
export function augmentImage(img: RawImage, rng: Rng, options: AugmentOptions = {}): RawImage {
  const o = resolveAugment(options);
  const box = o.crop
    ? sampleCrop(img.width, img.height, rng, o.crop.scale, o.crop.ratio)
    : { x: 0, y: 0, w: img.width, h: img.height };
  const flip = rng() < o.flip;
  let out = cropFlip(img, box, flip);
  if (o.jitter && !isGreyImage(img)) {
    const f = (s: number) => 1 - s + rng() * 2 * s;
    out = jitter(out, f(o.jitter.brightness), f(o.jitter.contrast), f(o.jitter.saturation));
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
