/** Tiny generated data for the resume tests: 18 MNIST digits of 3 classes, 20 two-class keyword sentences. */
import { loadMnist } from '../../src/data/builtin-mnist.js';
import { mulberry32 } from '../../src/data/random.js';
import { sampleShots } from '../../src/data/split.js';
import type { ImageDataset, TextDataset } from '../../src/data/types.js';

export function digits(): ImageDataset {
  const ds = sampleShots(loadMnist(), 6, 3);
  return { ...ds, labels: ds.labels.slice(0, 3), examples: ds.examples.filter((e) => e.label < 3) };
}

export function sentences(): TextDataset {
  const words = [
    ['cat', 'dog', 'fox'],
    ['red', 'blue', 'green'],
  ];
  const filler = 'the a of to in and is was it this'.split(' ');
  const rnd = mulberry32(5);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const examples = Array.from({ length: 20 }, (_, i) => ({
    id: String(i),
    label: i % 2,
    source: [pick(filler), pick(words[i % 2]!), pick(filler), pick(filler)].join(' '),
  }));
  return { kind: 'text', name: 'generated', labels: ['animal', 'colour'], examples, warnings: [] };
}
