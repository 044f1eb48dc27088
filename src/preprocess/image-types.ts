/** Types shared by the image preprocessing files. */

/** An already-decoded 8-bit image: row-major, channels interleaved (HWC). */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  /** 1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA. */
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array | Uint8ClampedArray;
}

/** What an image can be given as: a file path, encoded bytes, or decoded pixels. */
export type ImageInput = string | Uint8Array | RawImage;

/** Options that are not part of the model's spec (the spec says what the model wants, these say how to get there). */
export interface ImageDecodeOptions {
  /**
   * Colour that transparent pixels are composited onto before alpha is dropped. Default 'white'
   * (what a browser shows for a transparent PNG on a page, and what most photo datasets look like).
   */
  readonly background?: 'white' | 'black';
  /** Name used in error messages for byte / raw inputs (a path input names itself). */
  readonly name?: string;
  /** Largest width × height decoded, checked from the header first (default: imageLimits(), 40 MP). */
  readonly maxPixels?: number;
  /** Use images that decode only partly (truncated, bad checksums) instead of refusing them (default false). */
  readonly allowTruncated?: boolean;
}

export function isRawImage(input: ImageInput): input is RawImage {
  return typeof input === 'object' && !(input instanceof Uint8Array) && 'width' in input && 'data' in input;
}

/** A printable name for an input, for error messages and warnings. */
export function describeInput(input: ImageInput, name?: string): string {
  if (name !== undefined) return name;
  if (typeof input === 'string') return input;
  if (isRawImage(input)) return `<raw ${input.width}x${input.height}x${input.channels}>`;
  return `<${input.length}-byte buffer>`;
}
