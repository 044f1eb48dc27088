/** Reading examples' bytes for extraction: batches of files (through the native addon when built) and cache keys. */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { isRawImage } from '../preprocess/image-types.js';
import { nativeImageAddon } from '../preprocess/native.js';

/**
 * The bytes of a batch's files (a path stays a path where it cannot be read: the decoder then reports it by
 * name); other sources as they are. Through the native addon the reads happen on libuv's thread pool in one
 * job, while ONNX Runtime runs the previous batch; without it, synchronously (a batch's 32 small reads take
 * about a millisecond).
 */
export async function readSources(
  sources: readonly (Uint8Array | ImageSource)[],
): Promise<(Uint8Array | ImageSource)[]> {
  const paths = sources.filter((s): s is string => typeof s === 'string');
  const addon = nativeImageAddon();
  const bytes = addon && paths.length > 0 ? await addon.readFiles(paths) : undefined;
  let next = 0;
  return sources.map((source) => {
    if (typeof source !== 'string') return source;
    const read = bytes ? bytes[next++] : readOrNull(source);
    return read ?? source;
  });
}

function readOrNull(path: string): Uint8Array | null {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
}

/** What the cache key of an example hashes: its file's bytes, or its raw pixels with their geometry. */
export async function exampleBytes(source: ImageSource): Promise<Uint8Array> {
  if (typeof source === 'string') {
    try {
      return await readFile(source);
    } catch (e) {
      throw new GraftError('BAD_INPUT', `cannot read '${source}'`, { file: source }, { cause: e });
    }
  }
  if (isRawImage(source)) {
    const head = new TextEncoder().encode(`${source.width}x${source.height}x${source.channels}:`);
    const d = source.data;
    return Buffer.concat([head, new Uint8Array(d.buffer, d.byteOffset, d.byteLength)]);
  }
  return source;
}
