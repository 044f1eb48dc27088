/** `graft train <data>`: feature extraction (or fine-tuning) on a pre-trained backbone, then export. */
import type { Command } from 'commander';
import type { HeadChoice } from '../../pipeline/options.js';
import { fineTuneClassifier, type FineTuneResult } from '../../pipeline/finetune.js';
import type { TrainClassifierOptions } from '../../pipeline/options.js';
import { trainClassifier, type TrainResult } from '../../pipeline/train.js';
import { loadDataset } from '../../data/load.js';
import type { Dataset } from '../../data/types.js';
import { SkipSummary } from '../skip-summary.js';
import { commandSignal } from '../cancel.js';
import {
  addFineTuneFlags,
  fineTuneOptions,
  STRATEGIES,
  viewOptions,
  type FineTuneFlags,
} from './finetune-flags.js';
import { refuseUnusedOptions, SCOPED_OPTIONS } from '../../pipeline/option-scope.js';
import { addTextFlags, runTextTraining, type TextFlags } from './text-flags.js';
import { int8SummaryLine } from './quantize.js';
import { choice, dropout, duration, list, number } from '../parse.js';
import { cancellable, eventRenderer } from '../progress.js';
import { bold, green, printJson, table } from '../output.js';
import { printDecisionTable } from '../decision-table.js';
import { accuracyText, crossValidatedLine, heldOutAccuracyLine, heldOutHeading } from '../held-out.js';

interface TrainFlags extends FineTuneFlags, TextFlags {
  model?: string;
  head?: string;
  hidden?: string;
  dropout?: string;
  k?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  optimizer?: string;
  weightDecay?: string;
  labelSmoothing?: string;
  patience?: string;
  shots?: string;
  valSplit?: string;
  testSplit?: string;
  seed?: string;
  features?: string;
  out: string;
  onBadInput?: string;
  baseline: boolean;
  cacheDir?: string;
  cache: boolean;
  threads?: string;
  budget?: string;
  int8?: boolean;
  json?: boolean;
  quiet?: boolean;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

export function printTrainSummary(r: TrainResult): void {
  printDecisionTable(r.candidates, { model: r.model, tensor: r.featureTensor, head: r.head });
  const ft = r.fineTuning;
  if (ft?.skipped) process.stdout.write(`fine-tuning not tried: ${ft.skipped}\n`);
  else if (ft?.validation)
    process.stdout.write(
      `LP-FT on ${r.featureTensor}: validation ${pct(ft.validation.fineTuned)} vs its probe ${pct(ft.validation.probe)}: ${ft.kept === 'fine-tuned' ? 'shipping the fine-tuned model' : 'keeping the probe'} (${ft.seconds.toFixed(0)} s)\n`,
    );
  const rows = r.comparisons.map((c) => [
    c.name,
    accuracyText(c.report.accuracy, c.report.n),
    pct(c.report.macroF1),
  ]);
  process.stdout.write(`\n${heldOutHeading(r.evaluatedOn, r.evaluation.n)}\n`);
  if (r.evaluation.n > 0) process.stdout.write(`${table(['features', 'accuracy', 'macro-F1'], rows)}\n`);
  const chosen = r.candidates.find(
    (c) => c.model === r.model && c.tensor === r.featureTensor && c.head === r.head && !c.skipped,
  );
  const cv = chosen && { accuracy: chosen.cvAccuracy, folds: chosen.folds, n: r.counts.train };
  process.stdout.write(crossValidatedLine(r.evaluation.n, cv));
  if (r.dir) process.stdout.write(`\n${green('saved')} ${r.dir} (model.onnx, graft.json, report.html)\n`);
  if (r.int8) process.stdout.write(int8SummaryLine(r.int8));
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train <data>')
    .description(
      'train a classifier on a folder of images (one sub-folder per class), a .csv/.jsonl manifest, or mnist',
    )
    .option('--model <id>', 'pre-trained backbone (see `graft models`; default npm:nsfwjs/mobilenet_v2)')
    .option(
      '--head <kind>',
      'auto (default: chosen by cross-validation with the features) | linear | mlp | knn | ncm',
    )
    .option('--hidden <sizes>', 'MLP hidden sizes, comma separated (default 1024)')
    .option('--dropout <p>', 'MLP dropout')
    .option('--k <n>', 'neighbours for --head knn')
    .option('--epochs <n>', 'training epochs (max iterations for L-BFGS)')
    .option('--batch-size <n>', 'mini-batch size')
    .option('--lr <rate>', 'learning rate')
    .option('--optimizer <name>', 'auto | lbfgs | adam | adamw | sgd (auto: L-BFGS for linear heads)')
    .option('--weight-decay <w>', 'weight decay (L2 strength for L-BFGS; default 1/n)')
    .option('--label-smoothing <e>', 'label smoothing for the cross-entropy')
    .option('--patience <n>', 'early-stopping patience in epochs (0: off)')
    .option('--shots <k>', 'use k training examples per class (k-shot)')
    .option('--val-split <f>', 'fraction of each class held out for validation')
    .option('--test-split <f>', 'fraction of each class held out for the final test')
    .option('--seed <n>', 'random seed (splits, sampling, initialisation)')
    .option(
      '--features <id>',
      "'auto' (cross-validate candidate cuts and raw pixels), 'final', a tensor name, or <tensor>@2x2 (grid-pooled)",
    )
    .option('--budget <time>', 'time the automatic search may spend on candidates, e.g. 90s, 5m (default 5m)')
    .option('--out <dir>', 'where to write the model directory', './graft-model')
    .option('--on-bad-input <policy>', 'skip (count and report) | fail')
    .option('--no-baseline', 'skip the raw-pixel baseline')
    .option('--cache-dir <dir>', 'feature cache directory (default ~/.cache/graft)')
    .option('--no-cache', 'do not read or write the feature cache')
    .option('--threads <n>', 'ONNX Runtime intra-op threads')
    .option(
      '--int8',
      'also write model.int8.onnx: calibrated on the training split, accuracy guarded on the held-out split (as `graft quantize`)',
    )
    .option('--json', 'print the result as JSON (progress as JSON lines on stderr)')
    .option('--quiet', 'no progress output');
  addTextFlags(addFineTuneFlags(cmd)).action(async (data: string, f: TrainFlags, self: Command) => {
    const onBadInput = choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const);
    const dataset = await loadDataset(data, { onBadInput });
    refuseDroppedFlags(dataset.kind, f, self);
    const skips = new SkipSummary();
    skips.add(dataset.warnings);
    try {
      await trainOn(dataset, f, skips);
    } finally {
      skips.print();
    }
  });
}

const HEADS = ['auto', 'linear', 'mlp', 'knn', 'ncm'] as const;

/**
 * Every flag given on the command line that this modality × strategy × head would drop is refused
 * (pipeline/option-scope.ts), before any backbone is loaded.
 */
function refuseDroppedFlags(modality: Dataset['kind'], f: TrainFlags, self: Command): void {
  const flags = f as unknown as Readonly<Record<string, unknown>>;
  const given = Object.fromEntries(
    SCOPED_OPTIONS.filter((k) => self.getOptionValueSource(k) === 'cli').map((k) => [k, flags[k]]),
  );
  const head: HeadChoice | undefined = choice('head', f.head, HEADS);
  refuseUnusedOptions(
    {
      modality,
      strategy: choice('strategy', f.strategy, STRATEGIES) ?? 'auto',
      ...(head ? { head } : {}),
      ...(f.features !== undefined ? { features: f.features } : {}),
      ...(f.optimizer !== undefined ? { optimizer: f.optimizer } : {}),
      ...(f.model !== undefined ? { model: f.model } : {}),
    },
    given,
  );
}

async function trainOn(dataset: Dataset, f: TrainFlags, skips: SkipSummary): Promise<void> {
  const onBadInput = choice('on-bad-input', f.onBadInput, ['skip', 'fail'] as const);
  if (dataset.kind === 'text') {
    const r = await runTextTraining(dataset, f);
    const out = {
      dir: r.dir ?? null,
      method: r.method,
      labels: r.labels,
      evaluatedOn: r.evaluatedOn,
      accuracy: r.evaluation.accuracy,
      macroF1: r.evaluation.macroF1,
      counts: r.counts,
      checkpoints: r.checkpoints,
      int8: r.int8 ?? null,
      seconds: r.seconds,
    };
    if (f.json) printJson({ ...out, model: r.model, head: r.head, candidates: r.candidates });
    else {
      if (r.candidates) printDecisionTable(r.candidates, { model: r.model, head: r.head });
      process.stdout.write(
        `\n${heldOutAccuracyLine(r.evaluatedOn, r.evaluation)}${r.dir ? `${green('saved')} ${r.dir}\n` : ''}${r.int8 ? int8SummaryLine(r.int8) : ''}`,
      );
    }
    return;
  }
  const common: Partial<TrainClassifierOptions> & Pick<TrainClassifierOptions, 'data'> = {
    data: dataset,
    model: f.model,
    head: choice('head', f.head, HEADS),
    hidden: list('hidden', f.hidden),
    dropout: dropout('dropout', f.dropout),
    k: number('k', f.k, { integer: true, min: 1 }),
    epochs: number('epochs', f.epochs, { integer: true, min: 1 }),
    batchSize: number('batch-size', f.batchSize, { integer: true, min: 1 }),
    lr: number('lr', f.lr, { min: 0 }),
    optimizer: choice('optimizer', f.optimizer, ['auto', 'lbfgs', 'adam', 'adamw', 'sgd'] as const),
    weightDecay: number('weight-decay', f.weightDecay, { min: 0 }),
    labelSmoothing: number('label-smoothing', f.labelSmoothing, { min: 0 }),
    patience: number('patience', f.patience, { integer: true, min: 0 }),
    shots: number('shots', f.shots, { integer: true, min: 1 }),
    valSplit: number('val-split', f.valSplit, { min: 0 }),
    testSplit: number('test-split', f.testSplit, { min: 0 }),
    seed: number('seed', f.seed, { integer: true }),
    features: f.features,
    out: f.out,
    onBadInput,
    baseline: f.baseline,
    cacheDir: f.cache ? f.cacheDir : (false as const),
    threads: number('threads', f.threads, { integer: true, min: 1 }),
    budget: duration('budget', f.budget),
    int8: f.int8,
    onEvent: skips.observe(cancellable(eventRenderer({ quiet: f.quiet, jsonLines: f.json }))),
    signal: commandSignal(),
  };
  const ft = fineTuneOptions(f);
  if (ft.strategy === 'linear-probe') common.head ??= 'linear';
  const fineTuning = ft.strategy !== undefined && ft.strategy !== 'linear-probe';
  if (fineTuning) {
    const result = await fineTuneClassifier({ ...common, ...ft });
    if (f.json) printJson(summarizeFineTune(result));
    else printFineTuneSummary(result);
    return;
  }
  // An explicit --strategy linear-probe keeps to frozen features; the default search may try LP-FT too.
  const result = await trainClassifier({
    ...common,
    ...viewOptions(f),
    fineTune: ft.strategy === 'linear-probe' ? false : 'auto',
  });
  if (f.json) printJson(summarize(result));
  else printTrainSummary(result);
}

function summarizeFineTune(r: FineTuneResult): Record<string, unknown> {
  return {
    dir: r.dir ?? null,
    labels: r.labels,
    strategy: r.strategy,
    phases: r.phases,
    evaluatedOn: r.evaluatedOn,
    accuracy: r.evaluation.accuracy,
    macroF1: r.evaluation.macroF1,
    counts: r.counts,
    int8: r.int8 ?? null,
    seconds: r.seconds,
  };
}

function printFineTuneSummary(r: FineTuneResult): void {
  const rows = r.phases.map((p) => [p.name, p.unfreeze, p.epochs, p.lr, p.skipped ? 'resumed past' : '']);
  process.stdout.write(
    `\n${bold(`${r.strategy}`)}\n${table(['phase', 'unfreeze', 'epochs', 'lr', ''], rows)}\n`,
  );
  process.stdout.write(`\n${heldOutAccuracyLine(r.evaluatedOn, r.evaluation)}`);
  if (!r.activationsCached)
    process.stdout.write('augmentation was on: training activations were recomputed, not cached\n');
  if (r.dir) process.stdout.write(`${green('saved')} ${r.dir} (model.onnx, graft.json, report.html)\n`);
  if (r.int8) process.stdout.write(int8SummaryLine(r.int8));
}

export function summarize(r: TrainResult): Record<string, unknown> {
  return {
    dir: r.dir ?? null,
    labels: r.labels,
    model: r.model,
    featureTensor: r.featureTensor,
    head: r.head,
    evaluatedOn: r.evaluatedOn,
    accuracy: r.evaluation.accuracy,
    macroF1: r.evaluation.macroF1,
    comparisons: r.comparisons.map((c) => ({
      name: c.name,
      accuracy: c.report.accuracy,
      macroF1: c.report.macroF1,
    })),
    candidates: r.candidates,
    recipe: r.recipe,
    fineTuning: r.fineTuning ?? null,
    counts: r.counts,
    int8: r.int8 ?? null,
    seconds: r.seconds,
  };
}
