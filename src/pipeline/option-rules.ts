/**
 * The table of which training options a run can honour, for every modality × strategy × head: per option, its
 * flag and the rule that says why a run of a given shape would drop it (checked by option-scope.ts).
 */
import { gradientHead, type Strategy } from '../strategies/finetune/recipes.js';

/** What a run is, as far as which options it can honour. */
export interface RunShape {
  modality: 'image' | 'text';
  /** The recipe asked for; `auto` is the default search on frozen features. */
  strategy: Strategy | 'auto';
  /** The head as given (undefined: the recipe's default). */
  head?: string;
  /** Image: `--features` as given. */
  features?: string;
  /** `--optimizer` as given. */
  optimizer?: string;
  /** Text: `--model` as given (`tfidf`, `auto`, an encoder, or undefined). */
  model?: string;
}

/** The run's shape with its defaults filled in. */
export interface Shape {
  modality: 'image' | 'text';
  strategy: Strategy | 'auto';
  /** Trains through the backbone or encoder (fine-tune, lp-ft, scratch). */
  tuning: boolean;
  /** The head that trains: for fine-tuning linear or mlp; on frozen features any kind, or `auto` (searched). */
  head: string;
  /** A linear head on frozen features fitted by full-batch L-BFGS. */
  lbfgs: boolean;
  /** A cross-validated search runs (features, heads or text models compete). */
  search: boolean;
  /** Text: which model kind. */
  textModel?: 'tfidf' | 'auto' | 'encoder';
}

export function shapeOf(r: RunShape): Shape {
  const tuning = r.strategy === 'fine-tune' || r.strategy === 'lp-ft' || r.strategy === 'scratch';
  const head = tuning
    ? gradientHead(r.head ?? 'linear', r.strategy as Strategy)
    : (r.head ?? (r.strategy === 'linear-probe' ? 'linear' : 'auto'));
  const textModel =
    r.modality !== 'text'
      ? undefined
      : r.model === 'tfidf'
        ? 'tfidf'
        : r.model === 'auto' || (r.model === undefined && r.strategy === 'auto')
          ? 'auto'
          : 'encoder';
  const optimizerAuto = r.optimizer === undefined || r.optimizer === 'auto' || r.optimizer === 'lbfgs';
  const featuresAuto = r.features === undefined || r.features === 'auto';
  const search =
    r.modality === 'image'
      ? tuning
        ? featuresAuto && r.strategy !== 'scratch'
        : featuresAuto || head === 'auto'
      : textModel === 'auto' || (!tuning && head === 'auto');
  return {
    modality: r.modality,
    strategy: r.strategy,
    tuning,
    head,
    lbfgs: !tuning && head === 'linear' && optimizerAuto,
    search,
    ...(textModel ? { textModel } : {}),
  };
}

/** Why an option cannot apply to a run of this shape (undefined: it applies), given its value. */
export type Rule = (s: Shape, value: unknown) => string | undefined;

const TUNE = 'use --strategy fine-tune, lp-ft or scratch';

const tuningOnly =
  (what: string): Rule =>
  (s) =>
    s.tuning ? undefined : `${what}, and this run fits a head on frozen features; ${TUNE}`;

const imageOnly =
  (what: string): Rule =>
  (s) =>
    s.modality === 'image' ? undefined : `${what}; text data has no such setting: drop it`;

const textOnly =
  (what: string): Rule =>
  (s) =>
    s.modality === 'text' ? undefined : `${what}; image data has no such setting: drop it`;

/** Text encoders are not cut: their features are the pooled last hidden state (--pooling). */
const notForTextYet: Rule = (s) =>
  s.modality === 'text'
    ? 'text features are the pooled final encoder states, with no cut to choose: drop it (--pooling chooses cls or mean)'
    : undefined;

/** Settings text fine-tuning fixes as the Hugging Face Trainer does (the frozen-feature head takes them). */
const notForTextTuning =
  (what: string): Rule =>
  (s) =>
    s.modality === 'text' && s.tuning
      ? `${what}; use --strategy linear-probe or auto, where a head on frozen features takes it`
      : undefined;

/** kNN and nearest-class-mean heads fit in closed form: no optimisation settings apply. */
const closedForm = (s: Shape): string | undefined =>
  !s.tuning && (s.head === 'knn' || s.head === 'ncm')
    ? `--head ${s.head} fits in closed form, with no training loop; use --head linear, mlp or auto to train one`
    : undefined;

/** Options of gradient descent that full-batch L-BFGS has no use for. */
const descentOnly = (s: Shape): string | undefined =>
  s.lbfgs
    ? 'a linear head on frozen features fits with full-batch L-BFGS, which has no learning rate, mini-batches or early stopping; use --optimizer adam, adamw or sgd to fit it by gradient descent, or --head mlp'
    : undefined;

/** The first reason any of `rules` gives (for any table's shape S). */
export const first =
  <S>(...rules: ((s: S, value: unknown) => string | undefined)[]) =>
  (s: S, v: unknown): string | undefined => {
    for (const rule of rules) {
      const why = rule(s, v);
      if (why !== undefined) return why;
    }
    return undefined;
  };

const mlpOnly =
  (what: string): Rule =>
  (s) =>
    s.head === 'mlp' || (!s.tuning && s.head === 'auto')
      ? undefined
      : `${what}, and this run's head is ${s.head}; use --head mlp${s.tuning ? '' : ' (or auto, where an MLP competes)'}`;

const CHECKPOINTS =
  'a head on frozen features writes no checkpoints (it trains in seconds); use --strategy fine-tune, lp-ft or scratch to checkpoint and resume';

/** Every `graft train` option some run could drop, with the flag it is spelt as and its rule. */
export const RULES: Record<string, { flag: string; rule: Rule }> = {
  unfreeze: {
    flag: '--unfreeze',
    rule: first(tuningOnly('it chooses what trains through the backbone'), (s, v) =>
      s.strategy === 'scratch' && v !== 'all'
        ? 'strategy scratch trains every weight from a random start, so nothing can stay frozen; drop --unfreeze or use --strategy fine-tune'
        : undefined,
    ),
  },
  bnMode: {
    flag: '--bn-mode',
    rule: first(
      imageOnly('it sets how BatchNormalization trains'),
      tuningOnly('it sets how BatchNormalization trains through the backbone'),
    ),
  },
  layerwiseLrDecay: {
    flag: '--layerwise-lr-decay',
    rule: first(
      imageOnly('discriminative learning rates are per backbone block'),
      tuningOnly('discriminative learning rates apply to backbone blocks that train'),
    ),
  },
  freezeEpochs: {
    flag: '--freeze-epochs',
    rule: (s) =>
      s.strategy !== 'lp-ft'
        ? 'it is the length of the head-only phase of LP-FT; use --strategy lp-ft'
        : s.head !== 'mlp'
          ? 'LP-FT with a linear head starts from a converged L-BFGS probe, not from head-only epochs; use --head mlp to train the head alone for --freeze-epochs epochs first'
          : undefined,
  },
  clipGradNorm: { flag: '--clip-grad-norm', rule: tuningOnly('gradient clipping serves fine-tuning') },
  accumulateSteps: {
    flag: '--accumulate-steps',
    rule: tuningOnly('gradient accumulation serves fine-tuning'),
  },
  saveSteps: { flag: '--save-steps', rule: (s) => (s.tuning ? undefined : CHECKPOINTS) },
  saveTotalLimit: { flag: '--save-total-limit', rule: (s) => (s.tuning ? undefined : CHECKPOINTS) },
  resume: { flag: '--resume', rule: (s) => (s.tuning ? undefined : CHECKPOINTS) },
  augment: {
    flag: '--augment',
    rule: first(imageOnly('it augments images'), (s) =>
      s.tuning
        ? undefined
        : 'it augments images for fine-tuning (--strategy fine-tune|lp-ft|scratch); with cached features use --augment-views K',
    ),
  },
  augmentViews: {
    flag: '--augment-views',
    rule: first(imageOnly('it augments images'), (s) =>
      s.tuning
        ? 'augmented feature views serve heads fitted on cached features; fine-tuning takes --augment'
        : undefined,
    ),
  },
  augmentViewUse: {
    flag: '--augment-view-use',
    rule: first(imageOnly('it augments images'), (s) =>
      s.tuning
        ? 'augmented feature views serve heads fitted on cached features; fine-tuning takes --augment'
        : undefined,
    ),
  },
  augmentFlip: { flag: '--augment-flip', rule: imageOnly('it flips images') },
  hidden: {
    flag: '--hidden',
    rule: first(
      notForTextTuning("text fine-tuning's MLP head is the encoder's tanh pooler, as wide as the encoder"),
      mlpOnly('it sizes the hidden layers of an MLP head'),
    ),
  },
  dropout: {
    flag: '--dropout',
    // Text fine-tuning drops out the pooled state before any head (BERT's hidden_dropout_prob).
    rule: (s) =>
      s.modality === 'text' && s.tuning ? undefined : mlpOnly('it drops units of an MLP head')(s, undefined),
  },
  k: {
    flag: '--k',
    rule: first((s) =>
      !s.tuning && (s.head === 'knn' || s.head === 'auto')
        ? undefined
        : `it is the neighbour count of a k-NN head, and this run's head is ${s.head}; use --head knn (or auto) with --strategy linear-probe or auto`,
    ),
  },
  epochs: { flag: '--epochs', rule: closedForm },
  lr: { flag: '--lr', rule: first(closedForm, descentOnly) },
  batchSize: { flag: '--batch-size', rule: first(closedForm, descentOnly) },
  patience: {
    flag: '--patience',
    rule: first(closedForm, descentOnly, (s) =>
      s.tuning ? 'fine-tuning runs all its epochs (no early stopping); lower --epochs instead' : undefined,
    ),
  },
  optimizer: {
    flag: '--optimizer',
    rule: first(
      notForTextTuning('text fine-tuning steps with AdamW, as the Hugging Face Trainer does'),
      closedForm,
    ),
  },
  weightDecay: { flag: '--weight-decay', rule: closedForm },
  labelSmoothing: {
    flag: '--label-smoothing',
    rule: first(notForTextTuning('text fine-tuning trains on the plain cross-entropy'), closedForm),
  },
  features: { flag: '--features', rule: notForTextYet },
  budget: {
    flag: '--budget',
    rule: (s) =>
      s.search
        ? undefined
        : 'it bounds the automatic search, and this run searches nothing (its features, head and model are fixed); drop it',
  },
  baseline: {
    flag: '--no-baseline',
    rule: (s) =>
      s.modality === 'image'
        ? s.tuning
          ? 'fine-tuning reports no raw-pixel baseline; drop it'
          : undefined
        : s.textModel === 'auto'
          ? undefined
          : 'the tf-idf baseline is a candidate of the text search only (no --model, no --strategy); drop it',
  },
  cacheDir: {
    flag: '--cache-dir',
    rule: (s) => {
      const reads =
        s.modality === 'image'
          ? !s.tuning || s.search || (s.strategy === 'lp-ft' && s.head === 'linear')
          : !s.tuning && s.textModel !== 'tfidf';
      return reads
        ? undefined
        : `this run reads and writes no feature cache (${s.modality === 'text' ? (s.tuning ? 'fine-tuning runs the encoder on every step' : 'tf-idf rows are computed, not extracted') : 'its fixed cut is fine-tuned from the images'}); drop it`;
    },
  },
  evalData: { flag: '--eval-data', rule: textOnly('a separate evaluation set is read for text') },
  warmupRatio: {
    flag: '--warmup-ratio',
    rule: first(
      textOnly('learning-rate warmup is a text fine-tuning setting'),
      tuningOnly('warmup serves fine-tuning'),
    ),
  },
  warmupSteps: {
    flag: '--warmup-steps',
    rule: first(
      textOnly('learning-rate warmup is a text fine-tuning setting'),
      tuningOnly('warmup serves fine-tuning'),
    ),
  },
  evalStrategy: {
    flag: '--eval-strategy',
    rule: first(
      textOnly('it is a text fine-tuning setting'),
      tuningOnly('it schedules evaluation during fine-tuning'),
    ),
  },
  evalSteps: {
    flag: '--eval-steps',
    rule: first(
      textOnly('it is a text fine-tuning setting'),
      tuningOnly('it schedules evaluation during fine-tuning'),
    ),
  },
  loggingSteps: {
    flag: '--logging-steps',
    rule: first(
      textOnly('it is a text fine-tuning setting'),
      tuningOnly('it schedules logging during fine-tuning'),
    ),
  },
  loadBestModelAtEnd: {
    flag: '--load-best-model-at-end',
    rule: first(
      textOnly('it is a text fine-tuning setting'),
      tuningOnly('it chooses among fine-tuning checkpoints'),
    ),
  },
  metricForBestModel: {
    flag: '--metric-for-best-model',
    rule: first(
      textOnly('it is a text fine-tuning setting'),
      tuningOnly('it chooses among fine-tuning checkpoints'),
    ),
  },
  evalBatchSize: { flag: '--eval-batch-size', rule: textOnly('it batches text encoder passes') },
  maxSeqLength: {
    flag: '--max-seq-length',
    rule: first(textOnly('it truncates text tokens'), (s) =>
      s.textModel === 'tfidf'
        ? 'tf-idf counts every term of a text, with no token limit; drop it'
        : undefined,
    ),
  },
  pooling: {
    flag: '--pooling',
    rule: first(textOnly('it pools text encoder states'), (s) =>
      s.tuning
        ? 'it pools frozen encoder features, and fine-tuning reads the CLS/pooler state (--head mlp: the tanh pooler); drop it or use --strategy linear-probe'
        : s.textModel === 'tfidf'
          ? 'tf-idf rows are not pooled; drop it'
          : undefined,
    ),
  },
};
