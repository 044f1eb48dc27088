/**
 * Text classification end to end, two ways: 'finetune' (BERT sequence classification: encoder + CLS/pooler →
 * dropout → linear head, all or the top N layers trained with graft's autodiff, driven by Hugging Face-style
 * TextTrainingArguments) and 'features' (frozen encoder → pooled features → linear/mlp/knn/ncm head). Both
 * write one model.onnx (encoder + head) with the tokenizer files and graft.json to args.outputDir.
 */
import { loadDataset } from '../data/load.js';
import { sampleShots, SPLIT_DEFAULTS, stratifiedSplit } from '../data/split.js';
import type { Dataset, DataWarning, TextDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import type { EvaluationReport } from '../eval/report.js';
import type { Int8Record, ModelManifest } from '../export/manifest.js';
import { checkInt8Request, quantizeTrained, type Int8Request } from '../quantize/after-training.js';
import type { ResolveOptions } from '../sources/types.js';
import type { Strategy } from '../strategies/finetune/recipes.js';
import type { HeadChoice } from './options.js';
import type { History } from '../train/index.js';
import type { TextTrainingArguments } from '../text/finetune/arguments.js';
import type { LogEntry } from '../text/finetune/hf-callbacks.js';
import type { PoolerKind } from '../text/finetune/graph.js';
import type { Unfreeze } from '../text/finetune/params.js';
import type { TextPooling } from '../text/pooling.js';
import type { TextWarning } from '../text/warnings.js';
import { runTextFeatures } from './text-features.js';
import { runTextFinetune } from './text-finetune.js';
import { preflight } from './preflight.js';
import { validateHeadOptions, validateTrainingValues } from './validate.js';
import { givenOptions, refuseUnusedOptions } from './option-scope.js';
import { runTfidfFeatures, TFIDF_ID } from './text-tfidf.js';
import { textPooler, textStrategy } from './text-recipes.js';
import { DEFAULT_TEXT_ENCODER, runTextAuto, TEXT_AUTO_MODEL } from './text-auto.js';
import type { CandidateScore } from '../strategies/auto-select.js';
import type { HeadKind } from '../heads/fitted.js';
import type { HeadOptimizer } from '../heads/fit-dense.js';

export interface TrainTextClassifierOptions {
  /** `text,label` CSV/JSONL, `spam-assassin`, or a loaded text dataset. */
  data: string | TextDataset;
  /** A separate evaluation set (HF's eval_dataset); otherwise valSplit of `data` is held out. */
  evalData?: string | TextDataset;
  /**
   * The pre-trained encoder: `file:<dir>` or `hub:<org>/<name>[@rev]` in the Hugging Face layout; or `tfidf`,
   * the no-transfer baseline (a tf-idf vectoriser fitted on the training split; offline).
   */
  model: string;
  /**
   * The recipe, as for images: 'linear-probe' (a head on frozen, cached encoder features), 'fine-tune', 'lp-ft'
   * (a converged linear probe, then fine-tuning from it at lr / ftLrDivisor, the probe kept if fine-tuning ends
   * below it on the evaluation split) or 'scratch' (the encoder's weights drawn at random, all trained).
   * Default 'fine-tune' ('linear-probe' for tfidf).
   */
  strategy?: Strategy;
  /** The older spelling of strategy: 'features' = 'linear-probe', 'finetune' = 'fine-tune'. */
  method?: 'finetune' | 'features';
  /** LP-FT with an MLP head: head-only epochs before unfreezing (default as for images). */
  freezeEpochs?: number;
  /** LP-FT: the unfrozen phase runs at learningRate / ftLrDivisor (default as for images). */
  ftLrDivisor?: number;
  args: Partial<TextTrainingArguments> & Pick<TextTrainingArguments, 'outputDir'>;
  /** finetune: which encoder weights train. Default 'all'. */
  unfreeze?: Unfreeze;
  /** finetune: default 'auto' (the encoder's pooler_output when it has one, else the first token). */
  pooler?: PoolerKind;
  /** finetune: dropout before the head (HF's hidden_dropout_prob). Default 0.1. */
  dropout?: number;
  /** The head: linear (default), mlp; knn and ncm on frozen features only; auto (frozen features) by cross-validation. */
  head?: HeadChoice;
  /** Use k training examples per class (k-shot), sampled from the training split as for images. */
  shots?: number;
  /** Heads on frozen features, as for images: MLP hidden sizes (default [1024]). */
  hidden?: number[];
  /** Heads on frozen features: k-NN neighbours (default 5). */
  k?: number;
  /** Heads on frozen features: auto (L-BFGS for linear heads) | lbfgs | adam | adamw | sgd. */
  optimizer?: HeadOptimizer;
  /** Heads on frozen features: label smoothing of the cross-entropy (default 0). */
  labelSmoothing?: number;
  /** Heads on frozen features: early-stopping patience in epochs (default 10; 0: off). */
  patience?: number;
  /** model 'auto': the encoder tried beside tf-idf (default: the search's default encoder, skipped offline). */
  encoder?: string;
  /** model 'auto': also try the tf-idf baseline beside the encoder. Default true. */
  baseline?: boolean;
  /** model 'auto': seconds the search may spend scoring candidates. Default 300. */
  budget?: number;
  /** model 'auto': called as each candidate is scored. */
  onCandidate?: (score: CandidateScore) => void;
  /** features: default 'cls'. */
  pooling?: TextPooling;
  /** features: L2-normalise pooled features. Default false. */
  normalize?: boolean;
  /** Fraction held out for evaluation when evalData is not given. Default 0.1 (data/split.ts SPLIT_DEFAULTS). */
  valSplit?: number;
  /** Fraction held out for the final test (0: the final evaluation is on the evaluation set). Default 0.1. */
  testSplit?: number;
  /** Write model.onnx + tokenizer + graft.json to outputDir. Default true. */
  export?: boolean;
  /**
   * Also write model.int8.onnx (recorded in graft.json), quantized as `graft quantize` does (dynamic MatMul
   * quantization for encoders unless told otherwise), calibrated on the training split and guarded on the held-out
   * one. Needs the export.
   */
  int8?: Int8Request;
  hub?: ResolveOptions;
  threads?: number;
  cacheDir?: string | false;
  onLog?: (entry: LogEntry) => void;
  signal?: AbortSignal;
}

export interface TextTrainResult {
  /** The model the shipped classifier is built on (an encoder source, or `tfidf`; frozen-feature runs). */
  model?: string;
  /** The head trained on frozen features. */
  head?: HeadKind;
  /** The automatic search's decision table (model 'auto'): every candidate scored on the training split. */
  candidates?: CandidateScore[];
  method: 'finetune' | 'features';
  strategy: Strategy;
  /** LP-FT with a linear probe: which model was shipped, and both validation accuracies. */
  kept?: 'probe' | 'fine-tuned';
  validation?: { probe: number; fineTuned: number };
  labels: string[];
  evaluation: EvaluationReport;
  evaluatedOn: 'test' | 'evaluation';
  counts: { train: number; evaluation: number; test: number };
  history?: History;
  /** HF-style log_history: {step, epoch, loss, learning_rate} and {step, epoch, eval_*} entries. */
  logHistory: LogEntry[];
  /** Checkpoint directories left on disk, oldest first. */
  checkpoints: string[];
  bestModelCheckpoint?: string;
  bestMetric?: number;
  dataWarnings: DataWarning[];
  textWarnings: TextWarning[];
  seconds: { train: number; total: number };
  dir?: string;
  manifest?: ModelManifest;
  /** model.int8.onnx's record in graft.json, when `int8` was asked for. */
  int8?: Int8Record;
}

export interface TextSplits {
  labels: string[];
  train: TextDataset;
  evaluation: TextDataset;
  test: TextDataset;
  warnings: DataWarning[];
}

async function loadText(spec: string | Dataset, what: string): Promise<TextDataset> {
  const ds = typeof spec === 'string' ? await loadDataset(spec) : spec;
  if (ds.kind !== 'text')
    throw new GraftError(
      'BAD_INPUT',
      `${what} '${ds.name}' is an image dataset; text training needs text,label rows`,
    );
  return ds;
}

/** Re-indexes `ds` onto `labels`; a label the training data does not have is a clear error. */
export function alignLabels(ds: TextDataset, labels: readonly string[], what: string): TextDataset {
  const index = new Map(labels.map((l, i) => [l, i]));
  const examples = ds.examples.map((e) => {
    const name = ds.labels[e.label]!;
    const i = index.get(name);
    if (i === undefined)
      throw new GraftError(
        'BAD_INPUT',
        `${what}: label '${name}' (${e.id}) is not one of the known labels: ${labels.join(', ')}`,
        {
          label: name,
          id: e.id,
        },
      );
    return { ...e, label: i };
  });
  return { ...ds, labels: [...labels], examples };
}

export async function prepareTextSplits(o: TrainTextClassifierOptions): Promise<TextSplits> {
  const data = await loadText(o.data, 'dataset');
  if (data.labels.length < 2)
    throw new GraftError('BAD_INPUT', `need at least 2 classes, found ${data.labels.length}`);
  const seed = o.args.seed ?? SPLIT_DEFAULTS.seed;
  const shotsOf = (train: TextDataset) => (o.shots ? sampleShots(train, o.shots, seed) : train);
  const testSplit = o.testSplit ?? SPLIT_DEFAULTS.test;
  if (o.evalData !== undefined) {
    const evaluation = alignLabels(await loadText(o.evalData, 'evalData'), data.labels, 'evalData');
    const s = stratifiedSplit(data, { validation: 0, test: testSplit, seed });
    return {
      labels: [...data.labels],
      train: shotsOf(s.train),
      evaluation,
      test: s.test,
      warnings: [...data.warnings, ...s.warnings],
    };
  }
  const s = stratifiedSplit(data, {
    validation: o.valSplit ?? SPLIT_DEFAULTS.validation,
    test: testSplit,
    seed,
  });
  // Too little data to hold any out still trains: the run says so (NO_HELD_OUT) instead of failing.
  return {
    labels: [...data.labels],
    train: shotsOf(s.train),
    evaluation: s.validation,
    test: s.test,
    warnings: [...data.warnings, ...s.warnings],
  };
}

/** The library's text options under the names the option table uses (pipeline/option-scope.ts). */
function textGivenOptions(o: TrainTextClassifierOptions): Record<string, unknown> {
  const a = o.args;
  return givenOptions({
    resume: a.resumeFromCheckpoint,
    saveSteps: a.saveSteps,
    saveTotalLimit: a.saveTotalLimit,
    warmupRatio: a.warmupRatio,
    warmupSteps: a.warmupSteps,
    evalStrategy: a.evaluationStrategy,
    evalSteps: a.evalSteps,
    loggingSteps: a.loggingSteps,
    loadBestModelAtEnd: a.loadBestModelAtEnd,
    metricForBestModel: a.metricForBestModel,
    accumulateSteps: a.gradientAccumulationSteps,
    clipGradNorm: a.maxGradNorm,
    unfreeze: o.unfreeze,
    freezeEpochs: o.freezeEpochs,
    pooling: o.pooling,
    maxSeqLength: a.maxSeqLength,
    hidden: o.hidden,
    dropout: o.dropout,
    k: o.k,
    optimizer: o.optimizer,
    labelSmoothing: o.labelSmoothing,
    patience: o.patience,
  });
}

export async function trainTextClassifier(options: TrainTextClassifierOptions): Promise<TextTrainResult> {
  validateTrainingValues({
    dropout: options.dropout,
    lr: options.args.learningRate,
    epochs: options.args.numTrainEpochs,
    batchSize: options.args.perDeviceTrainBatchSize,
    valSplit: options.evalData === undefined ? (options.valSplit ?? SPLIT_DEFAULTS.validation) : 0,
    testSplit: options.testSplit ?? SPLIT_DEFAULTS.test,
    seed: options.args.seed,
    weightDecay: options.args.weightDecay,
    k: options.k,
    hidden: options.hidden,
    labelSmoothing: options.labelSmoothing,
    patience: options.patience,
    shots: options.shots,
  });
  const tfidf = options.model === TFIDF_ID;
  // The search trains heads on frozen features: its default recipe is linear-probe.
  const searchDefault =
    options.model === TEXT_AUTO_MODEL && options.strategy === undefined && options.method === undefined;
  const strategy = searchDefault ? 'linear-probe' : textStrategy(options, tfidf);
  if (tfidf && strategy !== 'linear-probe')
    throw new GraftError(
      'BAD_OPTION',
      `the tf-idf model has no pre-trained weights to ${strategy === 'scratch' ? 'train from scratch' : 'fine-tune'}: use strategy 'linear-probe' (a head on tf-idf rows)`,
    );
  if (strategy !== 'linear-probe') textPooler(options, strategy); // refuses heads without a gradient up front
  if (options.model === TEXT_AUTO_MODEL && strategy !== 'linear-probe')
    throw new GraftError(
      'BAD_OPTION',
      `model 'auto' (the search over tf-idf and the default encoder's frozen features) cannot be trained by strategy '${strategy}': name the encoder, e.g. model '${DEFAULT_TEXT_ENCODER}'`,
    );
  if (options.evalData !== undefined && options.valSplit !== undefined)
    throw new GraftError(
      'BAD_OPTION',
      '--val-split (valSplit): evalData (--eval-data) is the evaluation set, so nothing is held out of the training data for it; drop --val-split',
    );
  refuseUnusedOptions(
    { modality: 'text', strategy, model: options.model, ...(options.head ? { head: options.head } : {}) },
    textGivenOptions(options),
  );
  const out = options.export === false ? undefined : options.args.outputDir;
  checkInt8Request(options.int8, out);
  await preflight({ out, cacheDir: options.cacheDir });
  const splits = await prepareTextSplits(options);
  if (options.k !== undefined)
    validateHeadOptions({ head: options.head ?? 'auto', k: options.k }, splits.train.examples.length, true);
  const result =
    options.model === TEXT_AUTO_MODEL
      ? await runTextAuto(options, splits)
      : tfidf
        ? await runTfidfFeatures(options, splits)
        : strategy === 'linear-probe'
          ? await runTextFeatures(options, splits)
          : await runTextFinetune(options, splits, strategy);
  if (result.dir && options.int8) {
    const heldOut = result.evaluatedOn === 'test' ? splits.test : splits.evaluation;
    result.int8 = await quantizeTrained(
      result.dir,
      options.int8,
      { dataset: splits.train, train: splits.train.examples, heldOut: heldOut.examples },
      { threads: options.threads },
    );
  }
  return result;
}
