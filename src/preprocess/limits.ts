/**
 * What graft agrees to decode: a pixel budget checked from the image's header before any pixel buffer is
 * allocated (a 74-byte PNG may claim 15,000 × 15,000 pixels), and whether a partially decodable (truncated or
 * corrupt) image may be used. The process-wide defaults are what the CLI's `--max-pixels` and
 * `--allow-truncated` set; each call may override them through ImageDecodeOptions.
 */
import { GraftError } from '../errors.js';

/** 40 megapixels: larger than any camera photo a classifier needs, far below what exhausts memory. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

export interface ImageLimits {
  /** Largest width × height decoded (default 40 MP). */
  readonly maxPixels: number;
  /** Use images that decode only partly (truncated data, bad checksums) instead of refusing them. */
  readonly allowTruncated: boolean;
}

let defaults: ImageLimits = { maxPixels: DEFAULT_MAX_PIXELS, allowTruncated: false };

/** Sets the process-wide defaults (the CLI does, from its flags); returns the previous ones. */
export function setImageLimits(limits: Partial<ImageLimits>): ImageLimits {
  const previous = defaults;
  const maxPixels = limits.maxPixels ?? previous.maxPixels;
  if (!(Number.isInteger(maxPixels) && maxPixels > 0))
    throw new GraftError('BAD_OPTION', `--max-pixels must be a positive integer, got ${maxPixels}`);
  defaults = { maxPixels, allowTruncated: limits.allowTruncated ?? previous.allowTruncated };
  return previous;
}

/** The limits for one call: its own values over the process-wide defaults. */
export function imageLimits(overrides: Partial<ImageLimits> = {}): ImageLimits {
  return {
    maxPixels: overrides.maxPixels ?? defaults.maxPixels,
    allowTruncated: overrides.allowTruncated ?? defaults.allowTruncated,
  };
}

const mp = (n: number): string => (n < 100_000 ? `${n} pixels` : `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MP`);

/** Why an image of this size is refused, or undefined when it is within the budget. */
export function overBudget(width: number, height: number, maxPixels: number): string | undefined {
  const pixels = width * height;
  if (pixels <= maxPixels) return undefined;
  return (
    `${width}×${height} pixels (${mp(pixels)}) is over the pixel budget of ${mp(maxPixels)} ` +
    `(raise it with --max-pixels / maxPixels if the image is genuine)`
  );
}

/** Throws BAD_INPUT naming `name` when the image is over the budget. */
export function checkPixelBudget(width: number, height: number, maxPixels: number, name: string): void {
  const why = overBudget(width, height, maxPixels);
  if (why) throw new GraftError('BAD_INPUT', `cannot read image '${name}': ${why}`, { file: name });
}
