/**
 * Child process of kill-resume.test.ts: one small text distillation (a 1-layer student of a 2-layer tiny-BERT
 * teacher, labelled and unlabelled texts) through the public API, checkpointing every optimizer step into
 * <out>/checkpoints. argv: <data.csv> <unlabeled.csv> <teacher dir> <out> <kill at step, or -> [resume]
 * With a kill step, the child SIGKILLs itself as soon as it sees checkpoint-<≥ step> appear (no cleanup runs).
 */
import { distill } from '../../src/distill/distill.js';
import '../../src/text/index.js';
import { killAtCheckpoint } from '../train/kill-harness.js';

const [data, unlabeled, teacher, out, killAt, resume] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string | undefined,
];

if (killAt !== '-') killAtCheckpoint(out, Number(killAt));

await distill({
  data,
  unlabeled,
  teacher,
  student: 'layers:1',
  epochs: 2,
  batchSize: 4,
  lr: 1e-3,
  seed: 5,
  saveSteps: 1,
  saveTotalLimit: 100,
  threads: 1,
  speedRounds: 0,
  out,
  ...(resume ? { resume: true } : {}),
});
process.stdout.write('done\n');
