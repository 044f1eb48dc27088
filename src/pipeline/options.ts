/** Options of `train` (library) and `graft train` (CLI), with every default in one place. */
import { SPLIT_DEFAULTS } from '../data/split.js';
import type { AugmentOptions } from '../augment/image.js';
import type { Dataset } from '../data/types.js';
import type { ViewUse } from '../features/view-matrix.js';
import type { HeadOptimizer } from '../heads/fit-dense.js';
import type { HeadKind } from '../heads/fitted.js';
import type { Int8Request } from '../quantize/after-training.js';
import type { TrainEvent } from './events.js';
import { validateTrainingValues } from './validate.js';

/** A head kind, or `auto`: chosen with the features by cross-validation on the training split. */
export type HeadChoice = HeadKind | 'auto';

export interface TrainClassifierOptions {
  /** A dataset spec (folder, .csv, .jsonl, `mnist`, `spam-assassin`) or a loaded dataset. */
  data: string | Dataset;
  /** Registry id or source of the pre-trained backbone. */
  model: string;
  /** Where to write the trained model directory; omit to keep it in memory only. */
  out?: string;
  /** Default `auto`: linear, MLP, k-NN and nearest-class-mean heads compete by cross-validation. */
  head: HeadChoice;
  hidden: number[];
  dropout: number;
  k: number;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: HeadOptimizer;
  weightDecay: number;
  labelSmoothing: number;
  patience: number;
  /** Examples per class sampled from the training split (k-shot); omit for all. */
  shots?: number;
  valSplit: number;
  testSplit: number;
  seed: number;
  /**
   * `auto` (cross-validate the registry's candidate cuts, and the no-transfer baseline), `final`, or a feature
   * id: a tensor name, pooled globally, or `<tensor>@2x2` pooled over a grid.
   */
  features: string;
  /**
   * The no-transfer baseline (raw pixels): a candidate under `features: 'auto'`, and always reported beside the
   * result on the same held-out examples.
   */
  baseline: boolean;
  /** Seconds the automatic search may spend scoring candidates (the rest are listed as skipped). */
  budget: number;
  /**
   * `auto`: when the search chose a linear head on a backbone cut, also try LP-FT on that cut if data and budget
   * allow (pipeline/auto-finetune.ts), shipping it only when it beats its probe on the validation split.
   * `false`: feature extraction only.
   */
  fineTune: 'auto' | false;
  /**
   * Feature-level augmentation: the features of this many augmented views of each training image (cached like
   * any features) join the head fit and every cross-validation fold that trains on the image; held-out rows are
   * never augmented. 0 (default): off. On MNIST it did not help (README, bench/augment-probe.ts).
   */
  augmentViews: number;
  /** How views join the fit: `rows` (extra training rows, default) or `mean` (averaged with the image's own). */
  augmentViewUse: ViewUse;
  /** The augmentation that makes views; defaults suit the data (augment/image.ts: no flips, no jitter on grey). */
  viewAugment?: AugmentOptions;
  onBadInput: 'skip' | 'fail';
  /**
   * Also write model.int8.onnx (recorded in graft.json): model.onnx quantized by `graft quantize`'s pipeline,
   * calibrated on this run's training split, its accuracy guarded on this run's held-out split. `true` for the
   * defaults, or the quantization settings. Needs `out`.
   */
  int8?: Int8Request;
  cacheDir?: string | false;
  threads?: number;
  onEvent?: (e: TrainEvent) => void;
  signal?: AbortSignal;
}

export const TRAIN_DEFAULTS: Omit<TrainClassifierOptions, 'data'> = {
  model: 'npm:nsfwjs/mobilenet_v2',
  head: 'auto',
  hidden: [1024],
  dropout: 0.2,
  k: 5,
  epochs: 60,
  batchSize: 32,
  lr: 1e-3,
  optimizer: 'auto',
  weightDecay: 0,
  labelSmoothing: 0,
  patience: 10,
  valSplit: SPLIT_DEFAULTS.validation,
  testSplit: SPLIT_DEFAULTS.test,
  seed: SPLIT_DEFAULTS.seed,
  features: 'auto',
  baseline: true,
  budget: 300,
  fineTune: 'auto',
  augmentViews: 0,
  augmentViewUse: 'rows',
  onBadInput: 'skip',
};

export function resolveTrainOptions(
  options: Partial<TrainClassifierOptions> & Pick<TrainClassifierOptions, 'data'>,
): TrainClassifierOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = { ...TRAIN_DEFAULTS, ...defined } as TrainClassifierOptions;
  validateTrainingValues(o);
  return o;
}
