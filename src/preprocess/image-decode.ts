/** Decoding through sharp: any supported format (plus BMP) to 8-bit pixels at the model's geometry. */
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { GraftError, isGraftError } from '../errors.js';
import type { ImagePreprocess } from '../models/spec.js';
import { decodeBmp, isBmp } from './image-bmp.js';
import { planResize, sharpKernel } from './image-geometry.js';
import { checkPixelBudget, imageLimits } from './limits.js';
import {
  describeInput,
  isRawImage,
  type ImageDecodeOptions,
  type ImageInput,
  type RawImage,
} from './image-types.js';

/** 8-bit HWC pixels as they come out of the pipeline. */
export interface DecodedPixels {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

function badInput(name: string, why: string, cause?: unknown): GraftError {
  return new GraftError('BAD_INPUT', `cannot read image '${name}': ${why}`, { file: name }, { cause });
}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : String(e);
    throw badInput(path, why, e);
  }
}

function checkRaw(raw: RawImage, name: string): void {
  const { width, height, channels, data } = raw;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw badInput(name, `bad raw dimensions ${width}x${height}`);
  }
  if (![1, 2, 3, 4].includes(channels)) throw badInput(name, `bad raw channel count ${channels}`);
  if (data.length !== width * height * channels) {
    throw badInput(name, `raw buffer has ${data.length} bytes, expected ${width * height * channels}`);
  }
}

/**
 * How libvips opens encoded images: EXIF orientation applied; any warning (truncated data, bad checksum) is
 * fatal unless partial images are allowed; more pixels than the budget are refused from the header.
 */
function sharpOptions(options: ImageDecodeOptions): SharpOptions {
  const limits = imageLimits(options);
  return {
    autoOrient: true,
    failOn: limits.allowTruncated ? 'none' : 'warning',
    limitInputPixels: limits.maxPixels,
  };
}

/** Opens a sharp instance for any input; BMP bytes are decoded here, everything else by libvips. */
async function open(input: ImageInput, name: string, options: ImageDecodeOptions): Promise<Sharp> {
  let raw: RawImage | undefined = isRawImage(input) ? input : undefined;
  let bytes: Uint8Array | undefined;
  if (!raw) {
    bytes = typeof input === 'string' ? await readBytes(input) : (input as Uint8Array);
    if (bytes.length === 0) throw badInput(name, 'file is empty (0 bytes)');
    if (isBmp(bytes)) raw = decodeBmp(bytes, name);
  }
  if (raw) {
    checkRaw(raw, name);
    checkPixelBudget(raw.width, raw.height, imageLimits(options).maxPixels, name);
    const data = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
    const channels = raw.channels === 2 ? 4 : raw.channels;
    if (raw.channels === 2) {
      // sharp's raw input takes 1, 3 or 4 channels
      const rgba = grayAlphaToRgba(data);
      return sharp(rgba, { raw: { width: raw.width, height: raw.height, channels: 4 } });
    }
    return sharp(data, { raw: { width: raw.width, height: raw.height, channels: channels as 1 | 3 | 4 } });
  }
  return sharp(bytes!, sharpOptions(options));
}

/**
 * Decodes `input`, applies EXIF orientation, flattens alpha onto the background, converts to 8-bit sRGB (or
 * gray when the spec wants one channel), then resizes and crops as `planResize` says. Any failure to read or
 * decode is a GraftError('BAD_INPUT') whose message and `context.file` name the input.
 */
export async function decodeForSpec(
  input: ImageInput,
  spec: ImagePreprocess,
  options: ImageDecodeOptions = {},
): Promise<DecodedPixels> {
  const name = describeInput(input, options.name);
  if (typeof input === 'string' && spec.crop === 'none') {
    // Fast path: libvips reads and decodes the file in one thread-pool job, with no JavaScript step in
    // between, so a whole batch can be queued and decoded while ONNX Runtime (which blocks the event loop)
    // runs the previous one. Anything it cannot do (BMP, missing or corrupt files) goes the byte path below,
    // which names the problem.
    try {
      return await pipeline(sharp(input, sharpOptions(options)), spec, options, name);
    } catch {
      // fall through
    }
  }
  try {
    return await pipeline(await open(input, name, options), spec, options, name);
  } catch (e) {
    if (isGraftError(e)) throw e;
    const msg = e instanceof Error ? e.message.split('\n')[0]! : String(e);
    if (/pixel limit/i.test(msg)) {
      const why = `more pixels than the budget of ${imageLimits(options).maxPixels} (raise --max-pixels if genuine)`;
      throw badInput(name, why, e);
    }
    if (
      /failOn|premature end|read error|crc|corrupt|truncat/i.test(msg) &&
      !imageLimits(options).allowTruncated
    )
      throw badInput(
        name,
        `truncated or corrupt: decodes only partly (--allow-truncated uses such images) (${msg})`,
        e,
      );
    throw badInput(name, `not a readable image (${msg})`, e);
  }
}

async function pipeline(
  img: Sharp,
  spec: ImagePreprocess,
  options: ImageDecodeOptions,
  name: string,
): Promise<DecodedPixels> {
  {
    // A plain resize to the spec's size needs no source dimensions: skip the separate header read.
    let width = 0;
    let height = 0;
    if (spec.crop !== 'none') {
      const meta = await img.metadata();
      width = meta.autoOrient?.width ?? meta.width ?? 0;
      height = meta.autoOrient?.height ?? meta.height ?? 0;
      if (!width || !height) throw badInput(name, 'image has no dimensions');
    }
    const plan = planResize(width, height, spec);
    const background = options.background === 'black' ? '#000000' : '#ffffff';
    let p = img.flatten({ background });
    p = spec.channels === 1 ? p.greyscale() : p.toColourspace('srgb');
    if (plan.resizeWidth !== width || plan.resizeHeight !== height) {
      p = p.resize(plan.resizeWidth, plan.resizeHeight, {
        fit: 'fill',
        kernel: sharpKernel(spec.interpolation),
      });
    }
    if (plan.crop) p = p.extract(plan.crop);
    const { data, info } = await p.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  }
}

/**
 * Gray+alpha pixels expanded to RGBA. A plain function, not a loop inside the async decoder: V8 runs an async
 * function's loops several times slower.
 */
function grayAlphaToRgba(data: Uint8Array): Buffer {
  const rgba = Buffer.alloc((data.length / 2) * 4);
  for (let i = 0, j = 0; i < data.length; i += 2, j += 4) {
    rgba[j] = rgba[j + 1] = rgba[j + 2] = data[i]!;
    rgba[j + 3] = data[i + 1]!;
  }
  return rgba;
}
