/**
 * Text classification end to end, two ways: 'finetune' (BERT sequence classification: encoder + CLS/pooler →
 * dropout → linear head, all or the top N layers trained with graft's autodiff, driven by Hugging Face-style
 * TextTrainingArguments) and 'features' (frozen encoder → pooled features → linear/mlp/knn/ncm head). Both
 * write one model.onnx (encoder + head) with the tokenizer files and graft.json to args.outputDir.
 */
import { loadDataset } from '../data/load.js';
import { stratifiedSplit } from '../data/split.js';
import type { Dataset, DataWarning, TextDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import type { EvaluationReport } from '../eval/report.js';
import type { ModelManifest } from '../export/manifest.js';
import type { ResolveOptions } from '../sources/types.js';
import type { HeadKind } from '../strategies/heads.js';
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
import { runTfidfFeatures, TFIDF_ID } from './text-tfidf.js';
import { DEFAULT_TEXT_ENCODER, runTextAuto, TEXT_AUTO_MODEL } from './text-auto.js';
import type { CandidateScore } from '../strategies/auto-select.js';

export interface TrainTextClassifierOptions {
  /** `text,label` CSV/JSONL, `spam-assassin`, or a loaded text dataset. */
  data: string | TextDataset;
  /** A separate evaluation set (HF's eval_dataset); otherwise valSplit of `data` is held out. */
  evalData?: string | TextDataset;
  /**
   * The pre-trained encoder: `file:<dir>` or `hub:<org>/<name>[@rev]` in the Hugging Face layout; `tfidf`, the
   * no-transfer baseline (a tf-idf vectoriser fitted on the training split; offline); or `auto` (the default):
   * the search's default encoder, skipped when it cannot be had.
   */
  model?: string;
  /**
   * 'auto' searches features (tf-idf and the encoder's) × heads by cross-validation on the training split;
   * 'features' trains a head on the named model's frozen features; 'finetune' trains the encoder too. Default
   * 'auto' for model 'auto', 'features' for tfidf, otherwise 'finetune'.
   */
  method?: 'auto' | 'finetune' | 'features';
  /** auto: also try the tf-idf baseline beside the encoder. Default true. */
  baseline?: boolean;
  /** auto: seconds the search may spend scoring candidates. Default 300. */
  budget?: number;
  /** auto: called as each candidate is scored. */
  onCandidate?: (score: CandidateScore) => void;
  args: Partial<TextTrainingArguments> & Pick<TextTrainingArguments, 'outputDir'>;
  /** finetune: which encoder weights train. Default 'all'. */
  unfreeze?: Unfreeze;
  /** finetune: default 'auto' (the encoder's pooler_output when it has one, else the first token). */
  pooler?: PoolerKind;
  /** finetune: dropout before the head (HF's hidden_dropout_prob). Default 0.1. */
  dropout?: number;
  /** features: the head, or 'auto' (chosen by cross-validation). Default 'linear' ('auto' for method 'auto'). */
  head?: HeadKind | 'auto';
  /** features: default 'cls'. */
  pooling?: TextPooling;
  /** features: L2-normalise pooled features. Default false. */
  normalize?: boolean;
  /** Fraction held out for evaluation when evalData is not given. Default 0.2. */
  valSplit?: number;
  /** Fraction held out for the final test (0: the final evaluation is on the evaluation set). Default 0. */
  testSplit?: number;
  /** Write model.onnx + tokenizer + graft.json to outputDir. Default true. */
  export?: boolean;
  hub?: ResolveOptions;
  threads?: number;
  cacheDir?: string | false;
  onLog?: (entry: LogEntry) => void;
  signal?: AbortSignal;
}

/** The options every run sees after the dispatch: the model named ('auto' only reaches the search). */
export interface TextRunOptions extends TrainTextClassifierOptions {
  model: string;
}

export interface TextTrainResult {
  method: 'finetune' | 'features';
  /** The model the shipped classifier is built on (an encoder source, or `tfidf`). */
  model?: string;
  /** The head trained on frozen features ('features' only). */
  head?: HeadKind;
  /** The automatic search's decision table ('auto' only): every candidate scored on the training split. */
  candidates?: CandidateScore[];
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
  const seed = o.args.seed ?? 42;
  const testSplit = o.testSplit ?? 0;
  if (o.evalData !== undefined) {
    const evaluation = alignLabels(await loadText(o.evalData, 'evalData'), data.labels, 'evalData');
    const s = stratifiedSplit(data, { validation: 0, test: testSplit, seed });
    return {
      labels: [...data.labels],
      train: s.train,
      evaluation,
      test: s.test,
      warnings: [...data.warnings, ...s.warnings],
    };
  }
  const s = stratifiedSplit(data, { validation: o.valSplit ?? 0.2, test: testSplit, seed });
  return {
    labels: [...data.labels],
    train: s.train,
    evaluation: s.validation,
    test: s.test,
    warnings: [...data.warnings, ...s.warnings],
  };
}

export async function trainTextClassifier(options: TrainTextClassifierOptions): Promise<TextTrainResult> {
  const model = options.model ?? TEXT_AUTO_MODEL;
  const tfidf = model === TFIDF_ID;
  const method = options.method ?? (model === TEXT_AUTO_MODEL ? 'auto' : tfidf ? 'features' : 'finetune');
  if (method !== 'finetune' && method !== 'features' && method !== 'auto')
    throw new GraftError(
      'BAD_OPTION',
      `method must be 'auto', 'finetune' or 'features', got '${String(method)}'`,
    );
  if (model === TEXT_AUTO_MODEL && method !== 'auto')
    throw new GraftError(
      'BAD_OPTION',
      `model 'auto' is chosen by the search (method 'auto'); method '${method}' needs a named model, e.g. ${DEFAULT_TEXT_ENCODER} or tfidf`,
    );
  if (tfidf && method === 'finetune')
    throw new GraftError(
      'BAD_OPTION',
      "the tf-idf model has no pre-trained weights to fine-tune: use method 'features' (a head on tf-idf rows)",
    );
  if (options.head === 'auto' && method === 'finetune')
    throw new GraftError(
      'BAD_OPTION',
      "head 'auto' is chosen by cross-validation over frozen features; fine-tuning trains a linear head: drop head or use method 'auto'",
    );
  if (method === 'features' || method === 'auto') {
    const flags = {
      resumeFromCheckpoint: '--resume',
      saveSteps: '--save-steps',
      saveTotalLimit: '--save-total-limit',
    };
    const given = (Object.keys(flags) as (keyof typeof flags)[]).filter(
      (k) => options.args[k] !== undefined && options.args[k] !== false,
    );
    if (given.length)
      throw new GraftError(
        'BAD_OPTION',
        `${given.map((k) => `${k} (${flags[k]})`).join(', ')}: a head on frozen features writes no checkpoints (it trains on cached features in seconds); fine-tune (method 'finetune', --strategy fine-tune) to checkpoint and resume`,
      );
  }
  await preflight({
    out: options.export === false ? undefined : options.args.outputDir,
    cacheDir: options.cacheDir,
  });
  const splits = await prepareTextSplits(options);
  const o: TextRunOptions = { ...options, model };
  if (method === 'auto' || o.head === 'auto') return runTextAuto(o, splits);
  if (tfidf) return runTfidfFeatures(o, splits);
  return method === 'finetune' ? runTextFinetune(o, splits) : runTextFeatures(o, splits);
}
