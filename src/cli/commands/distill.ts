/** `graft distill <data> --teacher … --student …`: teacher–student training into a smaller model directory. */
import type { Command } from 'commander';
import { distill, type DistillResult } from '../../distill/distill.js';
import { GraftError } from '../../errors.js';
import { parseLabelMap } from '../../distill/labels.js';
import { commandSignal } from '../cancel.js';
import { heldOutAccuracyLine } from '../held-out.js';
import { bold, green, printJson, table } from '../output.js';
import { choice, list, number } from '../parse.js';
import { cancellable, eventRenderer } from '../progress.js';
import { SkipSummary } from '../skip-summary.js';

interface DistillFlags {
  teacher: string;
  teacherLabels?: string;
  teacherNormalization?: string;
  student: string;
  unlabeled?: string;
  temperature?: string;
  alpha?: string;
  hiddenLoss?: string;
  labelMap?: string;
  head?: string;
  warmStart: boolean;
  hidden?: string;
  unfreeze?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  optimizer?: string;
  weightDecay?: string;
  augment?: boolean;
  augmentFlip?: boolean;
  shots?: string;
  valSplit?: string;
  testSplit?: string;
  seed?: string;
  out: string;
  onBadInput?: string;
  cacheDir?: string;
  cache: boolean;
  threads?: string;
  saveSteps?: string;
  saveTotalLimit?: string;
  resume?: string | boolean;
  speedRounds?: string;
  json?: boolean;
  quiet?: boolean;
}

const EXAMPLES = `
Students (--student):
  cut:<tensor>[@2x2]              the teacher's own network (weights included) cut at an earlier tensor,
                                  + a new head, e.g. cut:block_12_add or cut:block_12_add@2x2 (grid-pooled)
  model:<registry id>[:<tensor>]  a registry model (see graft models), cut at its features or at <tensor>
                                  e.g. model:npm:nsfwjs/mobilenet_v2:block_12_add
  cnn                             a small CNN (two conv stages) from scratch
  mlp                             an MLP on raw pixels from scratch
  layers:<N> | layers:<i,j,…>     (text teachers) the teacher's encoder with N of its layers spread evenly
                                  (first and last kept: 12 → 6 keeps 0 2 4 7 9 11, as DistilBERT) or the
                                  listed ones, each starting from the teacher's weights, and its head

Defaults: --temperature 4; --alpha 0.9 with --unlabeled (most examples carry only soft targets), 0.5 without.
Text students: --epochs 3 --lr 5e-5 --batch-size 32, AdamW with linear decay, as text fine-tuning.

Examples:
  graft distill mnist --teacher ./teacher-model --student cnn --unlabeled ./digits --out ./student
  graft distill photos/ --teacher file:teacher.onnx --teacher-labels cat,dog --student model:npm:nsfwjs/mobilenet_v2
  graft distill mnist --teacher ./t --student cut:block_12_add --label-map 0=zero,1=one,... --out ./s
  graft distill spam-assassin --teacher ./spam-bert6 --student layers:3 --out ./spam-bert3
  graft distill labelled.csv --teacher ./text-model --student layers:3 --unlabeled more-texts.csv --out ./small`;

export function registerDistill(program: Command): void {
  program
    .command('distill <data>')
    .description(
      'teacher–student distillation: train a smaller, faster student to mimic a teacher (a graft model directory or any ONNX classifier)',
    )
    .requiredOption(
      '--teacher <source>',
      'a graft model directory, or file:<model.onnx> with --teacher-labels',
    )
    .option('--teacher-labels <labels>', "a file: teacher's classes, comma separated, in output order")
    .option(
      '--teacher-normalization <how>',
      'pixels of a file: teacher: unit (0..1, default) | imagenet (0..1 then ImageNet mean/std)',
    )
    .requiredOption(
      '--student <spec>',
      'cut:<tensor>[@2x2] | model:<registry id>[:<tensor>] | cnn | mlp | layers:<N> (text)',
    )
    .option(
      '--unlabeled <data>',
      'unlabelled examples for the transfer set (soft targets only). Images: a folder of images, a dataset folder or manifest (labels ignored), or mnist. Texts: a .csv/.jsonl with a text column (no label needed) or a folder of .txt files',
    )
    .option('--temperature <T>', 'softening temperature (default 4)')
    .option(
      '--alpha <a>',
      'weight of the soft-target term in [0, 1] (default 0.9 with --unlabeled, else 0.5)',
    )
    .option(
      '--hidden-loss <weight>',
      "text students: add weight × MSE between each student layer's hidden states and its teacher layer's (default 0: off)",
    )
    .option('--label-map <map>', 'data label → teacher label where names differ: 0=zero,1=one,…')
    .option('--head <kind>', "the student's head: linear (default) | mlp")
    .option('--hidden <sizes>', 'MLP head hidden sizes, comma separated (default 256)')
    .option(
      '--no-warm-start',
      "start a cut/model student's linear head from random weights, not from a linear probe of the labelled data",
    )
    .option(
      '--unfreeze <spec>',
      "what of a cut/model student trains besides the head: 'none' (default), 'all', 'last:N' blocks, or a tensor",
    )
    .option('--epochs <n>', 'training epochs (default 10)')
    .option('--batch-size <n>', 'mini-batch size (default 64)')
    .option('--lr <rate>', 'learning rate (default 1e-3)')
    .option('--optimizer <name>', 'adam (default) | adamw | sgd')
    .option('--weight-decay <w>', 'weight decay')
    .option(
      '--augment',
      'augment the transfer set; the teacher then runs on the very batch the student sees (no cached logits)',
    )
    .option('--augment-flip', 'also flip images horizontally (with --augment)')
    .option(
      '--shots <k>',
      'use k labelled training examples per class (the rest of the training split is not used)',
    )
    .option('--val-split <f>', 'fraction of each class held out for validation')
    .option('--test-split <f>', 'fraction of each class held out for the final test')
    .option('--seed <n>', 'random seed (splits, sampling, initialisation)')
    .option('--out <dir>', 'where to write the student model directory', './graft-student')
    .option('--on-bad-input <policy>', 'skip (count and report) | fail')
    .option('--cache-dir <dir>', 'teacher-logit cache directory (default ~/.cache/graft)')
    .option('--no-cache', 'do not read or write the cache')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option('--save-steps <n>', 'save a checkpoint every N optimizer steps (and at epoch ends)')
    .option('--save-total-limit <k>', 'keep only the newest K checkpoints (the best one is kept besides)')
    .option(
      '--resume [dir]',
      'resume from the newest intact <out>/checkpoints/checkpoint-<step>, or from [dir]',
    )
    .option(
      '--speed-rounds <n>',
      'timed rounds of the teacher/student speed comparison (0 skips it; default 5)',
    )
    .option('--json', 'print the result as JSON (progress as JSON lines on stderr)')
    .option('--quiet', 'no progress output')
    .addHelpText('after', EXAMPLES)
    .action(async (data: string, f: DistillFlags) => {
      const skips = new SkipSummary();
      try {
        const r = await distill({
          data,
          teacher: f.teacher,
          teacherLabels: f.teacherLabels
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          teacherNormalization: choice('teacher-normalization', f.teacherNormalization, [
            'unit',
            'imagenet',
          ] as const),
          student: f.student,
          unlabeled: f.unlabeled,
          temperature: number('temperature', f.temperature),
          alpha: number('alpha', f.alpha),
          hiddenLoss: number('hidden-loss', f.hiddenLoss, { min: 0 }),
          labelMap: f.labelMap === undefined ? undefined : parseLabelMap(f.labelMap),
          head: choice('head', f.head, ['linear', 'mlp'] as const),
          hidden: list('hidden', f.hidden),
          warmStart: f.warmStart,
          unfreeze: f.unfreeze,
          epochs: number('epochs', f.epochs, { integer: true, min: 1 }),
          batchSize: number('batch-size', f.batchSize, { integer: true, min: 1 }),
          lr: number('lr', f.lr, { min: 0 }),
          optimizer: choice('optimizer', f.optimizer, ['adam', 'adamw', 'sgd'] as const),
          weightDecay: number('weight-decay', f.weightDecay, { min: 0 }),
          augment: augmentOption(f),
          shots: number('shots', f.shots, { integer: true, min: 1 }),
          valSplit: number('val-split', f.valSplit, { min: 0 }),
          testSplit: number('test-split', f.testSplit, { min: 0 }),
          seed: number('seed', f.seed, { integer: true }),
          out: f.out,
          onBadInput: choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const),
          cacheDir: f.cache ? f.cacheDir : false,
          threads: number('threads', f.threads, { integer: true, min: 1 }),
          saveSteps: number('save-steps', f.saveSteps, { integer: true, min: 1 }),
          saveTotalLimit: number('save-total-limit', f.saveTotalLimit, { integer: true, min: 1 }),
          resume: f.resume,
          speedRounds: number('speed-rounds', f.speedRounds, { integer: true, min: 0 }),
          onEvent: skips.observe(cancellable(eventRenderer({ quiet: f.quiet, jsonLines: f.json }))),
          signal: commandSignal(),
        });
        if (f.json) printJson(summarize(r));
        else printSummary(r);
      } finally {
        skips.print();
      }
    });
}

function augmentOption(f: DistillFlags): boolean | { flip: number } | undefined {
  if (f.augmentFlip && !f.augment) {
    throw new GraftError('BAD_OPTION', '--augment-flip needs --augment');
  }
  return f.augmentFlip ? { flip: 0.5 } : f.augment;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
const ips = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));

export function summarize(r: DistillResult): Record<string, unknown> {
  return {
    dir: r.dir ?? null,
    labels: r.labels,
    teacher: r.teacher,
    student: r.student,
    temperature: r.temperature,
    alpha: r.alpha,
    evaluatedOn: r.evaluatedOn,
    accuracy: r.evaluation.accuracy,
    teacherAccuracy: r.teacherEvaluation.accuracy,
    comparison: r.comparison,
    counts: r.counts,
    teacherLogitsCached: r.teacherLogitsCached,
    resumed: r.resumed,
    seconds: r.seconds,
  };
}

function printSummary(r: DistillResult): void {
  const c = r.comparison;
  const rows = [
    [
      'teacher',
      pct(c.teacher.accuracy),
      '–',
      c.teacher.parameters.toLocaleString('en-US'),
      mb(c.teacher.bytes),
      ips(c.teacher.imagesPerSecond),
    ],
    [
      'student',
      pct(c.student.accuracy),
      pct(c.student.agreement),
      c.student.parameters.toLocaleString('en-US'),
      mb(c.student.bytes),
      ips(c.student.imagesPerSecond),
    ],
  ];
  const out = process.stdout;
  out.write(`\n${bold(`${r.student.spec}`)}: ${r.student.description} (T=${r.temperature}, α=${r.alpha})\n`);
  const unit = r.student.spec.startsWith('layers:') ? 'texts/s' : 'images/s';
  out.write(`${table(['', 'accuracy', 'agreement', 'parameters', 'size', unit], rows)}\n`);
  const speed = c.ratios.speed === undefined ? '' : `, ${c.ratios.speed.toFixed(2)}× the teacher's speed`;
  out.write(
    `student: ${pct(c.ratios.accuracy)} of the teacher's accuracy${speed}, ${(1 / c.ratios.parameters).toFixed(2)}× its parameters\n`,
  );
  out.write(heldOutAccuracyLine(r.evaluatedOn, r.evaluation));
  if (r.dir) out.write(`${green('saved')} ${r.dir} (model.onnx, graft.json, report.html)\n`);
}
