/** Small synthetic image-folder data sets for pipeline tests: colour-coded classes with noise, as real files. */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { mulberry32 } from '../../src/data/random.js';

export const COLOURS: Record<string, [number, number, number]> = {
  red: [200, 40, 40],
  green: [40, 180, 60],
  blue: [40, 60, 200],
};

export async function colourImage(rgb: [number, number, number], seed: number, size = 48): Promise<Buffer> {
  const rng = mulberry32(seed);
  const px = Buffer.alloc(size * size * 3);
  for (let i = 0; i < size * size; i++) {
    for (let c = 0; c < 3; c++)
      px[i * 3 + c] = Math.max(0, Math.min(255, rgb[c]! + Math.round((rng() - 0.5) * 120)));
  }
  return sharp(px, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/** `perClass` PNGs per colour class in a fresh temp folder; returns its path. */
export async function colourFolder(perClass: number, seedBase = 0): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'graft-colours-'));
  for (const [name, rgb] of Object.entries(COLOURS)) {
    await mkdir(join(root, name));
    for (let i = 0; i < perClass; i++) {
      await writeFile(join(root, name, `${i}.png`), await colourImage(rgb, seedBase + i * 7 + name.length));
    }
  }
  return root;
}
