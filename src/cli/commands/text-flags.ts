/**
 * `graft train` on text data (a `text,label` CSV/JSONL or spam-assassin): Hugging Face Trainer arguments as
 * flags. `--strategy fine-tune | lp-ft | scratch` train through the encoder (BERT sequence classification), with
 * the recipes images use; otherwise (`auto`, `linear-probe`) the frozen encoder's pooled features train a head.
 */
import type { Command } from 'commander';
import type { TextDataset } from '../../data/types.js';
import { GraftError } from '../../errors.js';
import { trainTextClassifier, type TextTrainResult } from '../../pipeline/train-text.js';
import type { Unfreeze } from '../../text/finetune/params.js';
import { commandSignal, throwIfCancelled } from '../cancel.js';
import { choice, dropout, duration, list, number } from '../parse.js';
import { eventRenderer } from '../progress.js';
import { DEFAULT_TEXT_ENCODER, TEXT_AUTO_MODEL } from '../../pipeline/text-auto.js';
import { STRATEGIES } from './finetune-flags.js';

export interface TextFlags {
  evalData?: string;
  warmupRatio?: string;
  warmupSteps?: string;
  evalStrategy?: string;
  evalSteps?: string;
  loggingSteps?: string;
  evalBatchSize?: string;
  loadBestModelAtEnd?: boolean;
  metricForBestModel?: string;
  maxSeqLength?: string;
  pooling?: string;
}

/** The shared flags the text path reads as well (a subset of `graft train`'s). */
export interface SharedFlags {
  model?: string;
  head?: string;
  epochs?: string;
  batchSize?: string;
  lr?: string;
  weightDecay?: string;
  seed?: string;
  valSplit?: string;
  testSplit?: string;
  out: string;
  strategy?: string;
  budget?: string;
  baseline?: boolean;
  unfreeze?: string;
  saveSteps?: string;
  saveTotalLimit?: string;
  resume?: string | boolean;
  threads?: string;
  quiet?: boolean;
  json?: boolean;
  dropout?: string;
  cacheDir?: string;
  cache?: boolean;
  accumulateSteps?: string;
  clipGradNorm?: string;
  freezeEpochs?: string;
  hidden?: string;
  k?: string;
  optimizer?: string;
  labelSmoothing?: string;
  patience?: string;
  shots?: string;
  int8?: boolean;
}

export const DEFAULT_TEXT_MODEL = DEFAULT_TEXT_ENCODER;

export function addTextFlags(cmd: Command): Command {
  return cmd
    .option('--eval-data <file>', 'text: a separate evaluation set')
    .option('--warmup-ratio <r>', 'text fine-tuning: linear warmup over this fraction of the steps')
    .option('--warmup-steps <n>', 'text fine-tuning: linear warmup steps')
    .option('--eval-strategy <s>', 'text fine-tuning: no | steps | epoch')
    .option('--eval-steps <n>', 'text fine-tuning: evaluate every N steps')
    .option('--logging-steps <n>', 'text fine-tuning: log every N steps')
    .option('--eval-batch-size <n>', 'text: evaluation batch size')
    .option('--load-best-model-at-end', 'text fine-tuning: keep the best checkpoint, not the last')
    .option('--metric-for-best-model <m>', 'text fine-tuning: e.g. eval_loss, eval_accuracy')
    .option('--max-seq-length <n>', 'text: truncate to this many tokens')
    .option('--pooling <p>', 'text features: cls | mean');
}

export async function runTextTraining(
  data: TextDataset,
  f: SharedFlags & TextFlags,
): Promise<TextTrainResult> {
  const unfreeze = f.unfreeze;
  if (
    unfreeze !== undefined &&
    unfreeze !== 'all' &&
    unfreeze !== 'none' &&
    !/^(last|top):\d+$/.test(unfreeze)
  ) {
    throw new GraftError(
      'BAD_OPTION',
      `--unfreeze for text models is 'all', 'none' or 'last:N' (the last N layers); got '${unfreeze}'`,
    );
  }
  // The same recipes as for images; `auto` (the default) and linear-probe train a head on frozen features.
  const chosen = choice('strategy', f.strategy, STRATEGIES);
  const strategy = chosen === undefined || chosen === 'auto' ? 'linear-probe' : chosen;
  const render = eventRenderer({ quiet: f.quiet, jsonLines: f.json });
  const int = (name: string, v: string | undefined) => number(name, v, { integer: true, min: 1 });
  return trainTextClassifier({
    data,
    evalData: f.evalData,
    // No model and no recipe: the search over tf-idf and the default encoder (skipped when offline).
    model: f.model ?? (chosen === undefined || chosen === 'auto' ? TEXT_AUTO_MODEL : DEFAULT_TEXT_MODEL),
    baseline: f.baseline,
    budget: duration('budget', f.budget),
    onCandidate: (score) => render({ type: 'candidate', score }),
    strategy,
    freezeEpochs: number('freeze-epochs', f.freezeEpochs, { integer: true, min: 0 }),
    unfreeze: unfreeze as Unfreeze | undefined,
    // As for images: `auto` searches the heads, an explicit recipe starts from a linear head.
    head:
      choice('head', f.head, ['auto', 'linear', 'mlp', 'knn', 'ncm'] as const) ??
      (chosen === undefined || chosen === 'auto' ? 'auto' : undefined),
    pooling: choice('pooling', f.pooling, ['cls', 'mean'] as const),
    dropout: dropout('dropout', f.dropout),
    hidden: list('hidden', f.hidden),
    k: number('k', f.k, { integer: true, min: 1 }),
    optimizer: choice('optimizer', f.optimizer, ['auto', 'lbfgs', 'adam', 'adamw', 'sgd'] as const),
    labelSmoothing: number('label-smoothing', f.labelSmoothing, { min: 0 }),
    patience: number('patience', f.patience, { integer: true, min: 0 }),
    shots: number('shots', f.shots, { integer: true, min: 1 }),
    cacheDir: f.cache === false ? false : f.cacheDir,
    valSplit: number('val-split', f.valSplit, { min: 0 }),
    testSplit: number('test-split', f.testSplit, { min: 0 }),
    threads: int('threads', f.threads),
    int8: f.int8,
    onLog: (entry) => {
      throwIfCancelled();
      if (!f.quiet) process.stderr.write(`${JSON.stringify(entry)}\n`);
    },
    signal: commandSignal(),
    args: {
      outputDir: f.out,
      numTrainEpochs: int('epochs', f.epochs),
      perDeviceTrainBatchSize: int('batch-size', f.batchSize),
      perDeviceEvalBatchSize: int('eval-batch-size', f.evalBatchSize),
      learningRate: number('lr', f.lr, { min: 0 }),
      weightDecay: number('weight-decay', f.weightDecay, { min: 0 }),
      warmupRatio: number('warmup-ratio', f.warmupRatio, { min: 0 }),
      warmupSteps: number('warmup-steps', f.warmupSteps, { integer: true, min: 0 }),
      evaluationStrategy: choice('eval-strategy', f.evalStrategy, ['no', 'steps', 'epoch'] as const),
      evalSteps: int('eval-steps', f.evalSteps),
      loggingSteps: int('logging-steps', f.loggingSteps),
      saveSteps: int('save-steps', f.saveSteps),
      saveTotalLimit: int('save-total-limit', f.saveTotalLimit),
      loadBestModelAtEnd: f.loadBestModelAtEnd,
      metricForBestModel: f.metricForBestModel,
      seed: number('seed', f.seed, { integer: true }),
      maxSeqLength: int('max-seq-length', f.maxSeqLength),
      gradientAccumulationSteps: int('accumulate-steps', f.accumulateSteps),
      maxGradNorm: number('clip-grad-norm', f.clipGradNorm, { min: 0 }),
      resumeFromCheckpoint: f.resume,
    },
  });
}
