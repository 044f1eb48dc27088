/** Small PNG thumbnails as data URIs, for the report's mistakes gallery. */
import { readFile } from 'node:fs/promises';
import sharp, { type Sharp } from 'sharp';
import { GraftError } from '../errors.js';
import { isRawImage, type RawImage } from '../preprocess/image-types.js';
import { decodeBmp, isBmp } from '../preprocess/image-bmp.js';

function fromRaw(raw: RawImage): Sharp {
  const { width, height } = raw;
  let data = Buffer.from(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength);
  let channels: 1 | 3 | 4 = raw.channels === 2 ? 4 : raw.channels;
  if (raw.channels === 2) {
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 0, j = 0; i < data.length; i += 2, j += 4) {
      rgba[j] = rgba[j + 1] = rgba[j + 2] = data[i]!;
      rgba[j + 3] = data[i + 1]!;
    }
    data = rgba;
    channels = 4;
  }
  return sharp(data, { raw: { width, height, channels } });
}

/**
 * A `data:image/png;base64,…` thumbnail that fits in `size`×`size` (aspect ratio kept, never enlarged beyond
 * `size`). `source` is a file path, encoded image bytes (anything sharp reads, or BMP) or decoded pixels.
 */
export async function thumbnailDataUri(source: string | Uint8Array | RawImage, size = 64): Promise<string> {
  const name = typeof source === 'string' ? source : isRawImage(source) ? '<raw image>' : '<image bytes>';
  try {
    let img: Sharp;
    if (isRawImage(source)) img = fromRaw(source);
    else {
      const bytes = typeof source === 'string' ? await readFile(source) : source;
      img = isBmp(bytes) ? fromRaw(decodeBmp(bytes, name)) : sharp(bytes, { autoOrient: true });
    }
    const png = await img.resize(size, size, { fit: 'inside', kernel: 'lanczos3' }).png().toBuffer();
    return `data:image/png;base64,${png.toString('base64')}`;
  } catch (e) {
    throw new GraftError('BAD_INPUT', `cannot make a thumbnail of '${name}'`, { file: name }, { cause: e });
  }
}
