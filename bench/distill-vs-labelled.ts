/**
 * Does distillation beat the same student trained on the labelled shots alone (issue 13)? Paired over seeds:
 * every seed draws its own split of MNIST (bench/util/mnist-distill.ts: 100 shots per class, 8 for validation,
 * 30 held out, 5,000 unlabelled digits, the rest an extra test set of ~3,500 digits) and trains its own teacher
 * (LP-FT MobileNetV2). On that split the student (default `cnn`) is
 *   - distilled from the teacher on the shots + the unlabelled digits (distill()'s defaults, E epochs);
 *   - trained on the shots alone through the same trainer (α = 0, no unlabelled digits) for E epochs, and for
 *     as many optimizer steps as the distilled run had (E × 6,000 / 1,000 epochs);
 * and all are scored on the 300 held-out digits and on the extra test set. Reported per seed, and as paired
 * differences (distilled − labelled-only) with their mean, standard deviation, range and t statistic over seeds.
 * Results are appended as JSON lines to --out-log as they come, so an interrupted run keeps its seeds
 * (--from-log summarises them without training).
 *
 *   node --import tsx bench/distill-vs-labelled.ts [--seeds 0,1,2,3,4] [--student cnn] [--epochs 10]
 *     [--lr 1e-3] [--unlabeled 5000] [--shots 100] [--threads 2] [--out-log <file>] [--alpha <a>] [--temperature <T>]
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ImageDataset } from '../src/data/types.js';
import { distill } from '../src/distill/distill.js';
import type { DistillOptions } from '../src/distill/options.js';
import { evaluateDataset } from '../src/eval/evaluate-dataset.js';
import { load } from '../src/predict/classifier.js';
import { mnistDistillSetup, mnistTeacher } from './util/mnist-distill.js';

const { values: a } = parseArgs({
  options: {
    seeds: { type: 'string', default: '0,1,2,3,4' },
    student: { type: 'string', default: 'cnn' },
    epochs: { type: 'string', default: '10' },
    lr: { type: 'string', default: '1e-3' },
    unlabeled: { type: 'string', default: '5000' },
    shots: { type: 'string', default: '100' },
    threads: { type: 'string', default: '2' },
    alpha: { type: 'string' },
    temperature: { type: 'string' },
    'out-log': { type: 'string', default: join(tmpdir(), 'graft-distill-vs-labelled.jsonl') },
    /** Only summarise the seeds already in --out-log (e.g. of an interrupted run). */
    'from-log': { type: 'boolean', default: false },
  },
});
const threads = Number(a.threads);
const epochs = Number(a.epochs);
const log = (m: string) => process.stderr.write(`[distill-vs-labelled] ${m}\n`);
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

async function extraAccuracy(dir: string, test: ImageDataset): Promise<number> {
  const clf = await load(dir, { threads });
  try {
    return (await evaluateDataset(clf, test, { batchSize: 64 })).report.accuracy;
  } finally {
    await clf.release();
  }
}

interface Scores {
  held: number;
  extra: number;
}
interface SeedRow {
  seed: number;
  teacher: Scores;
  distilled: Scores;
  labelled: Scores;
  labelledSteps: Scores;
  stepsEpochs: number;
  extraN: number;
}

async function runSeed(seed: number, work: string): Promise<SeedRow> {
  const setup = mnistDistillSetup(Number(a.shots), Number(a.unlabeled), seed);
  const teacher = await mnistTeacher(setup, 'lp-ft', { threads, log });
  const common: Partial<DistillOptions> & Pick<DistillOptions, 'data' | 'teacher' | 'student'> = {
    data: setup.pool,
    teacher,
    student: a.student,
    ...setup.splits,
    threads,
    lr: Number(a.lr),
    speedRounds: 0,
    ...(a.temperature ? { temperature: Number(a.temperature) } : {}),
    onEvent: (e) => {
      if (e.type === 'epoch') log(`seed ${seed}: epoch ${e.epoch + 1} loss ${e.trainLoss.toFixed(4)}`);
    },
  };
  const run = async (name: string, o: Partial<DistillOptions>) => {
    const out = join(work, `${name}-${seed}`);
    log(`seed ${seed}: ${name}`);
    const r = await distill({ ...common, ...o, out });
    const extra = await extraAccuracy(out, setup.extraTest);
    log(`seed ${seed}: ${name} held-out ${pct(r.evaluation.accuracy)}, extra ${pct(extra)}`);
    return { r, scores: { held: r.evaluation.accuracy, extra } };
  };
  const d = await run('distilled', {
    unlabeled: setup.unlabeled,
    epochs,
    ...(a.alpha ? { alpha: Number(a.alpha) } : {}),
  });
  const labelledN = d.r.counts.train;
  const stepsEpochs = Math.round((epochs * (labelledN + d.r.counts.unlabeled)) / labelledN);
  const l = await run('labelled', { alpha: 0, epochs });
  const ls = await run('labelled-steps', { alpha: 0, epochs: stepsEpochs });
  return {
    seed,
    teacher: { held: d.r.teacherEvaluation.accuracy, extra: await extraAccuracy(teacher, setup.extraTest) },
    distilled: d.scores,
    labelled: l.scores,
    labelledSteps: ls.scores,
    stepsEpochs,
    extraN: setup.extraTest.examples.length,
  };
}

function summary(name: string, diffs: number[]): string {
  const n = diffs.length;
  const mean = diffs.reduce((s, x) => s + x, 0) / n;
  const sd = n > 1 ? Math.sqrt(diffs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : NaN;
  const t = mean / (sd / Math.sqrt(n));
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}`;
  return (
    `${name}: mean ${pts(mean)} points, sd ${(sd * 100).toFixed(2)}, range ${pts(Math.min(...diffs))} to ` +
    `${pts(Math.max(...diffs))}, t = ${t.toFixed(2)} (${n - 1} df), positive in ${diffs.filter((x) => x > 0).length}/${n}`
  );
}

const rows: SeedRow[] = [];
if (a['from-log']) {
  for (const line of readFileSync(a['out-log'], 'utf8').split('\n'))
    if (line.trim()) rows.push(JSON.parse(line) as SeedRow);
} else {
  const work = await mkdtemp(join(tmpdir(), 'graft-distill-vs-'));
  try {
    for (const seed of a.seeds.split(',').map(Number)) {
      const row = await runSeed(seed, work);
      appendFileSync(a['out-log'], `${JSON.stringify({ student: a.student, epochs, ...row })}\n`);
      rows.push(row);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
const e = (s: Scores) => `${pct(s.held)} / ${pct(s.extra)}`;
const lines = [
  `student ${a.student}, ${epochs} epochs; accuracy on 300 held-out / ~${rows[0]?.extraN} extra test digits`,
  'seed  teacher         distilled       labelled-only   labelled-only (steps)',
  ...rows.map((r) =>
    [
      String(r.seed).padEnd(4),
      e(r.teacher).padEnd(15),
      e(r.distilled).padEnd(15),
      e(r.labelled).padEnd(15),
      `${e(r.labelledSteps)} (${r.stepsEpochs} ep)`,
    ].join('  '),
  ),
];
for (const set of ['held', 'extra'] as const) {
  lines.push(
    summary(
      `distilled − labelled-only (${epochs} ep), ${set}`,
      rows.map((r) => r.distilled[set] - r.labelled[set]),
    ),
  );
  lines.push(
    summary(
      `distilled − labelled-only (steps), ${set}`,
      rows.map((r) => r.distilled[set] - r.labelledSteps[set]),
    ),
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
