/**
 * Image distillation goal (issue 13): a MobileNetV2 teacher fine-tuned on MNIST at 100 shots (LP-FT, as
 * `graft demo --fine-tune` makes it; or a linear probe, faster) taught to smaller students on those shots plus
 * N unlabelled MNIST digits; each student against the same student trained on the labelled shots alone.
 *
 *   node --import tsx bench/distill-image.ts [--shots 100] [--unlabeled 5000] [--students cut:block_12_add,cnn]
 *     [--teacher-strategy lp-ft|linear-probe] [--teacher-dir <dir>] [--epochs-cut 20] [--epochs-cnn 10]
 *     [--lr-cut 3e-3] [--lr-cnn 1e-3]
 *     [--speed-rounds 7] [--threads 2] [--seed 0]
 *
 * Splits are the demo's (pipeline/demo-finetune.ts): per class `shots + 50` digits drawn from MNIST, 8 of them
 * for validation and 30 held out for the test, `shots` trained on; the unlabelled digits are drawn from the rest
 * of MNIST (never a held-out digit). Teacher, students and baselines are scored on the same ~300 test digits.
 * Speed: images/s of the teacher's and the student's model.onnx on one preprocessed batch of test digits,
 * rounds alternating which runs first, median (and range) of the per-round ratios — preprocessing excluded.
 * The labelled-only baseline is the same student through the same trainer with α = 0 (cross-entropy only) and
 * no unlabelled images; it gets its own best budget: the epochs the distilled student had, or as many optimizer
 * steps as it had, whichever scores higher on the validation split.
 */
import { parseArgs } from 'node:util';
import { distill, type DistillResult } from '../src/distill/distill.js';
import type { DistillOptions } from '../src/distill/options.js';
import { mnistDistillSetup, mnistTeacher, type TeacherStrategy } from './util/mnist-distill.js';
import { median } from './util/stats.js';

const { values: a } = parseArgs({
  options: {
    shots: { type: 'string', default: '100' },
    unlabeled: { type: 'string', default: '5000' },
    students: { type: 'string', default: 'cut:block_12_add,cnn' },
    'teacher-strategy': { type: 'string', default: 'lp-ft' },
    'teacher-dir': { type: 'string' },
    'epochs-cut': { type: 'string', default: '20' },
    'epochs-cnn': { type: 'string', default: '10' },
    'lr-cut': { type: 'string', default: '3e-3' },
    'lr-cnn': { type: 'string', default: '1e-3' },
    'speed-rounds': { type: 'string', default: '7' },
    threads: { type: 'string', default: '2' },
    seed: { type: 'string', default: '0' },
  },
});
const shots = Number(a.shots);
const seed = Number(a.seed);
const threads = Number(a.threads);
const log = (m: string) => process.stderr.write(`[distill-image] ${m}\n`);

const setup = mnistDistillSetup(shots, Number(a.unlabeled), seed);
const { pool, splits, unlabeled } = setup;
const teacherDir = await mnistTeacher(setup, a['teacher-strategy'] as TeacherStrategy, {
  ...(a['teacher-dir'] ? { dir: a['teacher-dir'] } : {}),
  threads,
  log,
});

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const lastVal = (r: DistillResult) => r.history?.epochs.at(-1)?.metrics['val_accuracy'] ?? -1;

interface Row {
  student: string;
  distilled: DistillResult;
  baseline: DistillResult;
  baselineEpochs: number;
}
const rows: Row[] = [];
for (const student of a.students.split(',')) {
  const small = student === 'cnn' || student === 'mlp';
  const epochs = Number(small ? a['epochs-cnn'] : a['epochs-cut']);
  const lr = Number(small ? a['lr-cnn'] : a['lr-cut']);
  const common: Partial<DistillOptions> & Pick<DistillOptions, 'data' | 'teacher' | 'student'> = {
    data: pool,
    teacher: teacherDir,
    student,
    ...splits,
    threads,
    batchSize: 64,
    epochs,
    lr,
    onEvent: (e) => {
      if (e.type === 'stage') log(`${student}: ${e.message}`);
      if (e.type === 'epoch') log(`${student}: epoch ${e.epoch + 1} loss ${e.trainLoss.toFixed(4)}`);
    },
  };
  log(`${student}: distilling (${unlabeled.length} unlabelled digits, ${epochs} epochs)`);
  const distilled = await distill({ ...common, unlabeled, speedRounds: Number(a['speed-rounds']) });
  log(`${student}: distilled ${pct(distilled.evaluation.accuracy)}`);
  // Labelled shots alone: same epochs, or the distilled run's optimizer steps.
  const labelled = distilled.counts.train;
  const stepMatched = Math.max(epochs, Math.round((epochs * (labelled + unlabeled.length)) / labelled));
  let baseline: DistillResult | undefined;
  let baselineEpochs = epochs;
  for (const e of [...new Set([epochs, stepMatched])]) {
    const r = await distill({ ...common, epochs: e, alpha: 0, speedRounds: 0 });
    log(`${student}: labelled only, ${e} epochs: val ${pct(lastVal(r))}, test ${pct(r.evaluation.accuracy)}`);
    if (!baseline || lastVal(r) > lastVal(baseline)) [baseline, baselineEpochs] = [r, e];
  }
  rows.push({ student, distilled, baseline: baseline!, baselineEpochs });
}

const t = rows[0]!.distilled;
const lines = [
  `MNIST, ${shots} shots/class + ${unlabeled.length} unlabelled; teacher ${a['teacher-strategy']} MobileNetV2 ` +
    `(${t.comparison.teacher.parameters.toLocaleString('en-US')} parameters): ${pct(t.teacherEvaluation.accuracy)} on ` +
    `${t.evaluation.n} test digits, ${t.comparison.teacher.imagesPerSecond?.toFixed(1)} images/s`,
  'student                 distilled  of teacher  agreement  labelled-only (epochs)  speed× median [min–max]  parameters  size MB',
];
for (const r of rows) {
  const c = r.distilled.comparison;
  const rounds = c.speedRounds; // teacher time / student time per round
  lines.push(
    [
      r.student.padEnd(23),
      pct(c.student.accuracy).padStart(9),
      pct(c.ratios.accuracy).padStart(10),
      pct(c.student.agreement).padStart(9),
      `${pct(r.baseline.evaluation.accuracy)} (${r.baselineEpochs})`.padStart(22),
      `${median(rounds).toFixed(2)} [${Math.min(...rounds).toFixed(2)}–${Math.max(...rounds).toFixed(2)}]`.padStart(
        23,
      ),
      c.student.parameters.toLocaleString('en-US').padStart(10),
      (c.student.bytes / 1e6).toFixed(2).padStart(8),
    ].join('  '),
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
