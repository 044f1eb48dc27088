/**
 * The issue-13 image setup, shared by the distillation benches: per class `shots + 50` MNIST digits drawn with a
 * seed (the demo's split: 8 of them for validation, 30 held out, `shots` trained on), N unlabelled digits drawn
 * from the rest of MNIST, and the digits left after that as an extra, larger test set. The teacher is a
 * MobileNetV2 fine-tuned on the shots (LP-FT as `graft demo --fine-tune` makes it, or a linear probe), trained
 * once per (strategy, shots, seed) into a temporary folder and reused.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMnist } from '../../src/data/builtin-mnist.js';
import { Mulberry32, permutation } from '../../src/data/random.js';
import { sampleShots } from '../../src/data/split.js';
import type { ImageDataset, ImageSource } from '../../src/data/types.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';

export interface MnistDistillSetup {
  /** The labelled pool (train + validation + test of the demo's split). */
  pool: ImageDataset;
  /** distill()/fineTuneClassifier() split options that carve `pool` as the demo does. */
  splits: { shots: number; valSplit: number; testSplit: number; seed: number };
  unlabeled: ImageSource[];
  /** MNIST digits in neither the pool nor the unlabelled set, as a labelled dataset. */
  extraTest: ImageDataset;
}

export function mnistDistillSetup(shots: number, unlabeledCount: number, seed: number): MnistDistillSetup {
  const mnist = loadMnist();
  const perClass = shots + 50;
  const pool = sampleShots(mnist, perClass, seed);
  const inPool = new Set(pool.examples.map((e) => e.id));
  const rest = mnist.examples.filter((e) => !inPool.has(e.id));
  // Seed 0 keeps MNIST's order (the unlabelled digits of the first runs); other seeds draw them at random.
  const order =
    seed === 0 ? rest.map((_, i) => i) : Array.from(permutation(rest.length, new Mulberry32(seed)));
  const drawn = order.map((i) => rest[i]!);
  return {
    pool,
    splits: { shots, valSplit: 8 / perClass, testSplit: 30 / perClass, seed },
    unlabeled: drawn.slice(0, unlabeledCount).map((e) => e.source),
    extraTest: { ...mnist, name: 'mnist-rest', examples: drawn.slice(unlabeledCount), warnings: [] },
  };
}

export type TeacherStrategy = 'lp-ft' | 'linear-probe';

/** The teacher's model directory for this setup: trained there unless it exists. */
export async function mnistTeacher(
  s: MnistDistillSetup,
  strategy: TeacherStrategy,
  o: { dir?: string; threads: number; log: (m: string) => void },
): Promise<string> {
  const dir = o.dir ?? join(tmpdir(), `graft-distill-teacher-${strategy}-${s.splits.shots}-${s.splits.seed}`);
  if (existsSync(join(dir, 'graft.json'))) {
    o.log(`reusing the teacher in ${dir}`);
    return dir;
  }
  o.log(`training the teacher (${strategy}) into ${dir}`);
  const lpft = strategy === 'lp-ft';
  const t = await fineTuneClassifier({
    data: s.pool,
    strategy: lpft ? 'lp-ft' : 'linear-probe',
    ...s.splits,
    threads: o.threads,
    out: dir,
    // The whole network (its final features): the students are cut earlier or much smaller.
    features: 'final',
    // The demo's LP-FT: converged L-BFGS probe, then the last 3 blocks at lr/30 (pipeline/demo-finetune.ts).
    // The L-BFGS probe takes no batch size or head-only epochs (those options are refused where they do nothing).
    ...(lpft ? { epochs: 3, lr: 3e-4, batchSize: 32, ftLrDivisor: 30, unfreeze: 'last:3' } : { epochs: 15 }),
  });
  o.log(`teacher: ${(t.evaluation.accuracy * 100).toFixed(1)}% on ${t.evaluation.n} test digits`);
  return dir;
}
