/**
 * Shared data for the text distillation tests: keyword sentences of two classes (a CSV with or without its label
 * column) and a 2-layer tiny-BERT teacher fine-tuned on them.
 */
import { writeFile } from 'node:fs/promises';
import { mulberry32 } from '../../src/data/random.js';
import { trainTextClassifier } from '../../src/pipeline/train-text.js';
import '../../src/text/index.js';
import { BERT_SOURCE } from '../text/helpers.js';

const KEYWORDS: Record<string, string[]> = {
  animal: ['cat', 'dog', 'bird', 'fish', 'fox'],
  color: ['red', 'blue', 'green', 'black', 'white'],
};
const FILLER = 'the a of to in and is was it this that they we you have time day people way work'.split(' ');

/** `perClass` sentences of each class, drawn with `seed`: [text, label] pairs. */
export function sentences(perClass: number, seed: number): [string, string][] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const rows: [string, string][] = [];
  for (let i = 0; i < perClass; i++)
    for (const [label, words] of Object.entries(KEYWORDS)) {
      const parts = Array.from({ length: 3 + Math.floor(rnd() * 6) }, () => pick(FILLER));
      parts.splice(Math.floor(rnd() * parts.length), 0, pick(words));
      rows.push([parts.join(' '), label]);
    }
  return rows;
}

/** A `text,label` CSV of `sentences(perClass, seed)`. */
export async function csv(path: string, perClass: number, seed: number): Promise<string> {
  const lines = ['text,label', ...sentences(perClass, seed).map(([t, l]) => `"${t}",${l}`)];
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

/** Fine-tunes the tiny BERT on `data` into the model directory `out` (the teacher of these tests). */
export async function tinyTextTeacher(data: string, out: string): Promise<void> {
  await trainTextClassifier({
    data,
    model: BERT_SOURCE,
    threads: 2,
    args: {
      outputDir: out,
      numTrainEpochs: 3,
      perDeviceTrainBatchSize: 16,
      learningRate: 1e-2,
      seed: 3,
      maxSeqLength: 16,
    },
  });
}
