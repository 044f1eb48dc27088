/**
 * Learnable generated fixtures for the option matrix, tiny in compute: a 3-block CNN backbone with random weights
 * written as model.onnx (8×8 RGB input, NCHW; blocks named block_N_… so `last:N` finds them), colour-coded
 * images in memory, and a two-class keyword text set for the tiny BERT fixture.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../../src/data/random.js';
import type { ImageDataset, TextDataset } from '../../src/data/types.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { saveModel } from '../../src/onnx/io.js';
import { float32 } from '../../src/tensor.js';

export const IMAGE_SIZE = 8;
/** The per-image tint of colourImages (see there). */
export const TINT = 30;

function uniform(n: number, rng: () => number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
}

/** `file:<dir>/model.onnx`: conv 3→8 → conv 8→8 → conv 8→8 (3×3, Relu), global average pool, flatten. */
export async function tinyCnn(seed = 7): Promise<string> {
  const rng = mulberry32(seed);
  const b = new GraphBuilder('tiny_cnn');
  let x = b.input('input', 'float32', ['N', 3, IMAGE_SIZE, IMAGE_SIZE]);
  let channels = 3;
  for (let block = 1; block <= 3; block++) {
    const w = b.constant(
      `block_${block}_w`,
      float32([8, channels, 3, 3], uniform(8 * channels * 9, rng, 0.5)),
    );
    const bias = b.constant(`block_${block}_b`, float32([8], uniform(8, rng, 0.1)));
    x = b.op('Conv', [x, w, bias], { pads: attr.ints([1, 1, 1, 1]) }, { name: `block_${block}_conv` });
    x = b.op('Relu', [x], {}, { name: `block_${block}_relu` });
    channels = 8;
  }
  const pooled = b.op('GlobalAveragePool', [x], {}, { name: 'pool' });
  b.node('Flatten', [pooled], { axis: attr.int(1) }, { name: 'flatten', outputs: ['features'] });
  b.output('features', 'float32', ['N', 8]);
  const dir = await mkdtemp(join(tmpdir(), 'graft-tiny-cnn-'));
  await saveModel(createModel(b.graph, 17), join(dir, 'model.onnx'));
  return `file:${join(dir, 'model.onnx')}`;
}

/** Muted colours 40 apart in two channels: close enough that the tints below make the classes overlap. */
const COLOURS: [string, [number, number, number]][] = [
  ['blue', [100, 110, 150]],
  ['green', [100, 150, 110]],
  ['red', [150, 110, 100]],
];

/**
 * `perClass` noisy 8×8 images per colour, decoded pixels in memory. Each image is tinted by its own offset per
 * channel (uniform in ±`tint`), so class colours overlap: a classifier on the images' mean colours cannot be
 * perfect (nearest class mean on the true means: about 92% at tint 30, 82% at 40), and each pixel is noisy on top.
 */
export function colourImages(perClass: number, seed = 1, tint = TINT): ImageDataset {
  const rng = mulberry32(seed);
  const examples = COLOURS.flatMap(([name, rgb], label) =>
    Array.from({ length: perClass }, (_, i) => {
      const data = new Uint8Array(IMAGE_SIZE * IMAGE_SIZE * 3);
      const offset = rgb.map((v) => v + (rng() * 2 - 1) * tint);
      for (let p = 0; p < IMAGE_SIZE * IMAGE_SIZE; p++)
        for (let c = 0; c < 3; c++)
          data[p * 3 + c] = Math.max(0, Math.min(255, Math.round(offset[c]! + (rng() - 0.5) * 160)));
      return {
        id: `${name}/${i}`,
        label,
        source: { width: IMAGE_SIZE, height: IMAGE_SIZE, channels: 3 as const, data },
      };
    }),
  );
  return { kind: 'image', name: 'colours', labels: COLOURS.map(([n]) => n), examples, warnings: [] };
}

const WORDS: Record<string, string[]> = {
  happy: ['love', 'great', 'good', 'happy'],
  sad: ['hate', 'terrible', 'awful', 'bad'],
};
const FILLER = ['this', 'movie', 'the', 'film', 'was', 'really', 'i', 'a'];

/** Two classes told apart by one keyword among filler words, `perClass` texts each. */
export function keywordTexts(perClass: number, seed = 3): TextDataset {
  const rng = mulberry32(seed);
  const pick = (a: readonly string[]) => a[Math.floor(rng() * a.length)]!;
  const labels = Object.keys(WORDS);
  const examples = labels.flatMap((label, l) =>
    Array.from({ length: perClass }, (_, i) => {
      const words = Array.from({ length: 5 }, () => pick(FILLER));
      words.splice(Math.floor(rng() * 6), 0, pick(WORDS[label]!));
      return { id: `${label}/${i}`, label: l, source: words.join(' ') };
    }),
  );
  return { kind: 'text', name: 'keywords', labels, examples, warnings: [] };
}

/** A scratch directory for model outputs. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, '.keep'), '');
  return dir;
}
