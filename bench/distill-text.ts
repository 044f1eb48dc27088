/**
 * Text distillation goal (issue 13): a 6-layer encoder fine-tuned on spam-assassin (bench/spam-bert6.ts's
 * model directory) distilled into 3 of its own layers (`--student layers:3`: 0, 3 and 5, spread as DistilBERT
 * spread 12 → 6), keeping ≥ 97% of its accuracy at ≥ 1.8× its throughput.
 *
 * The student trains on the teacher's own training split (distill() splits spam-assassin exactly as
 * `graft train` did: seed 0, 10% validation, 10% test) with distill()'s text defaults unless given, and both are
 * scored on the same held-out test split. Throughput, --rounds rounds alternating which goes first, median and
 * range, ratio of the medians and per round: (a) the two model.onnx files on every test text, tokenised once
 * beforehand into batches of 32 (as the image goal times model.onnx, preprocessing excluded); (b) both model
 * directories through `load()` predicting every test text, tokenisation included.
 *
 *   node --import tsx bench/distill-text.ts [--teacher /work/artifacts/spam-bert6] [--student layers:3]
 *     [--epochs N] [--lr x] [--alpha a] [--out <dir>] [--rounds 5] [--threads 2] [--skip-train] [--model-only]
 *     [--shots K] [--unlabeled <csv|jsonl|dir> | --unlabeled train-rest] [--accuracy-only]
 *
 * Unlabelled texts: `--shots K --unlabeled train-rest` labels K training texts per class and hands every
 * training-split text to distill() as unlabelled (a JSONL with a text column only; distill() leaves out the
 * shots and any text the held-out splits share), the text counterpart of the image goal's shots + unlabelled
 * digits; run it once with and once without `--unlabeled` to compare. `--accuracy-only` skips the timing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/load.js';
import { SPLIT_DEFAULTS, stratifiedSplit } from '../src/data/split.js';
import { distill } from '../src/distill/distill.js';
import { loadTextTeacher, teacherTextSource } from '../src/distill/text-teacher.js';
import { MODEL_FILE } from '../src/export/manifest.js';
import { decodeModel } from '../src/onnx/io.js';
import { load } from '../src/predict/classifier.js';
import { Session } from '../src/runtime/session.js';
import type { Batch } from '../src/train/types.js';
import '../src/text/index.js';
import { alternate, pairedRatios, showSpread, spread } from './util/rounds.js';

const { values: a } = parseArgs({
  options: {
    teacher: { type: 'string', default: '/work/artifacts/spam-bert6' },
    student: { type: 'string', default: 'layers:3' },
    epochs: { type: 'string' },
    lr: { type: 'string' },
    alpha: { type: 'string' },
    out: { type: 'string', default: join(tmpdir(), 'graft-distill-spam-bert3') },
    rounds: { type: 'string', default: '5' },
    threads: { type: 'string', default: '2' },
    'skip-train': { type: 'boolean', default: false },
    /** Only (a): model.onnx on pre-tokenised batches. */
    'model-only': { type: 'boolean', default: false },
    shots: { type: 'string' },
    /** A file or folder of unlabelled texts, or `train-rest`: the training split's texts. */
    unlabeled: { type: 'string' },
    'accuracy-only': { type: 'boolean', default: false },
  },
});
const threads = Number(a.threads);
const load1 = () => loadavg()[0]!.toFixed(1);
const log = (m: string) => process.stderr.write(`[distill-text] ${m} (load ${load1()})\n`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

// The held-out test texts, split as `graft train spam-assassin` and distill() split them.
const ds = await loadDataset('spam-assassin');
if (ds.kind !== 'text') throw new Error('spam-assassin is not text');
const split = stratifiedSplit(ds, {
  validation: SPLIT_DEFAULTS.validation,
  test: SPLIT_DEFAULTS.test,
  seed: 0,
});

/** `--unlabeled train-rest`: the training split's texts, written as a JSONL without labels. */
async function unlabeledTexts(): Promise<string | undefined> {
  if (a.unlabeled !== 'train-rest') return a.unlabeled;
  const path = join(tmpdir(), `graft-spam-train-texts-${process.pid}.jsonl`);
  await writeFile(
    path,
    split.train.examples.map((e) => JSON.stringify({ text: e.source })).join('\n') + '\n',
  );
  return path;
}

if (!a['skip-train']) {
  const unlabeled = await unlabeledTexts();
  log(`distilling ${a.teacher} into ${a.student} → ${a.out}`);
  const r = await distill({
    data: 'spam-assassin',
    teacher: a.teacher,
    student: a.student,
    out: a.out,
    threads,
    speedRounds: a['accuracy-only'] ? 0 : 3,
    ...(a.shots ? { shots: Number(a.shots) } : {}),
    ...(unlabeled ? { unlabeled } : {}),
    ...(a.epochs ? { epochs: Number(a.epochs) } : {}),
    ...(a.lr ? { lr: Number(a.lr) } : {}),
    ...(a.alpha ? { alpha: Number(a.alpha) } : {}),
    onEvent: (e) => {
      if (e.type === 'stage') log(e.message);
      if (e.type === 'epoch') log(`epoch ${e.epoch + 1} loss ${e.trainLoss.toFixed(4)}`);
    },
  });
  log(
    `teacher ${pct(r.teacherEvaluation.accuracy)}, student ${pct(r.evaluation.accuracy)} ` +
      `(${pct(r.comparison.ratios.accuracy)} of the teacher) on ${r.evaluation.n} ${r.evaluatedOn} texts; ` +
      `agreement ${pct(r.comparison.student.agreement)}; parameters ${r.comparison.teacher.parameters} → ` +
      `${r.comparison.student.parameters}; ${r.counts.train} labelled + ${r.counts.unlabeled} unlabelled texts, ` +
      `α ${r.alpha}; train ${r.seconds.train.toFixed(0)} s`,
  );
  if (a['accuracy-only']) process.exit(0);
}

const test = split.test.examples.map((e) => ({ text: e.source }));
// (a) model.onnx alone on pre-tokenised batches.
const tt = await loadTextTeacher(a.teacher);
const testSet = { ...ds, examples: [...split.test.examples] };
const batches: Batch[] = [];
for await (const b of teacherTextSource(tt, testSet, tt.inputs).batches(32, 0, false)) batches.push(b);
const sessions = {
  teacher: await Session.create(tt.encoder.model, { threads }),
  student: await Session.create(decodeModel(await readFile(join(a.out, MODEL_FILE))), { threads }),
};
const pass = (s: Session) => async () => {
  const t0 = performance.now();
  for (const b of batches) await s.run(b.inputs, ['probabilities']);
  return testSet.examples.length / ((performance.now() - t0) / 1000);
};
await pass(sessions.teacher)();
await pass(sessions.student)();
report('model.onnx, tokenised beforehand', await timedRounds(pass(sessions.teacher), pass(sessions.student)));
await sessions.teacher.release();
await sessions.student.release();

// (b) end to end through load(), tokenisation included.
if (a['model-only']) process.exit(0);
const teacher = await load(a.teacher, { threads });
const student = await load(a.out, { threads });
const rate = (clf: typeof teacher) => async () => {
  const t0 = performance.now();
  await clf.predictProbs(test, { batchSize: 32 });
  return test.length / ((performance.now() - t0) / 1000);
};
await rate(teacher)();
await rate(student)();
report('load() end to end', await timedRounds(rate(teacher), rate(student)));
await teacher.release();
await student.release();

async function timedRounds(t: () => Promise<number>, s: () => Promise<number>) {
  const before = load1();
  const res = await alternate(Number(a.rounds), { teacher: t, student: s }, (r, got) =>
    log(`round ${r + 1}: teacher ${got.teacher.toFixed(1)}, student ${got.student.toFixed(1)} texts/s`),
  );
  return { ...res, loads: `${before} → ${load1()}` };
}

function report(what: string, r: { teacher: number[]; student: number[]; loads: string }): void {
  const ratio = spread(r.student).median / spread(r.teacher).median;
  process.stdout.write(
    `${what}: ${test.length} test texts, batch 32, ${threads} threads, ${a.rounds} alternating rounds (load ${r.loads}): ` +
      `teacher ${showSpread(r.teacher)} texts/s, student ${showSpread(r.student)} texts/s; ` +
      `speed ratio ${ratio.toFixed(2)} of medians, per round ${showSpread(pairedRatios(r.student, r.teacher), 3)}\n`,
  );
}
