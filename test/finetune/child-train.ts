/**
 * Child process for the kill/resume test: fine-tunes MobileNetV2's last block (+ top conv + head, BN in training
 * mode) on fixed pseudo-random "cached activations", checkpointing every step. argv: <dir> <out.bin> [resume]
 */
import { writeFile } from 'node:fs/promises';
import { mulberry32 } from '../../src/data/random.js';
import { float32 } from '../../src/tensor.js';
import { Checkpoint } from '../../src/train/callbacks/checkpoint.js';
import { loadLatestCheckpoint } from '../../src/train/checkpoint-io.js';
import { arrayDataSource } from '../../src/train/data-source.js';
import { Trainer } from '../../src/train/trainer.js';
import { mobilenet, trainable } from './helpers.js';

const [dir, out, resume] = process.argv.slice(2) as [string, string, string | undefined];
const bb = await mobilenet();
const model = await trainable(bb, { unfreeze: 'last:1', bnMode: 'train', session: { threads: 1 } });
const n = 40;
const u = mulberry32(7);
const x = float32(
  [n, 160, 7, 7],
  Float32Array.from({ length: n * 160 * 49 }, () => u() * 2 - 1),
);
const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
const state = resume ? await loadLatestCheckpoint(dir) : undefined;
process.stdout.write(`resumed-at ${state?.step ?? -1}\n`);
await new Trainer().fit(model, arrayDataSource({ [model.inputName]: x }, labels, { seed: 5 }), {
  epochs: 3,
  batchSize: 8,
  optimizer: { kind: 'adamw', lr: 1e-3, weightDecay: 0.01 },
  schedule: { kind: 'cosine' },
  seed: 11,
  callbacks: [new Checkpoint({ dir, everySteps: 1, keepLast: 2 })],
  ...(state ? { resume: state } : {}),
});
const names = [...model.params.keys()].sort();
const parts = names.map((k) => Buffer.from(model.params.get(k)!.buffer.slice(0)));
await writeFile(out, Buffer.concat([Buffer.from(JSON.stringify(names) + '\n'), ...parts]));
await model.release();
process.stdout.write('done\n');
