/** Training a dense head on cached features: the feature-extraction recipe's inner loop. */
import { deriveSeed, mulberry32 } from '../data/random.js';
import { evaluate, type EvaluationReport } from '../eval/report.js';
import { fitStandardizer, MatrixSource, type FeatureMatrix } from '../features/matrix.js';
import type { DenseHeadSpec } from '../heads/dense.js';
import type { SessionOptions } from '../runtime/session.js';
import { EarlyStopping, fit, type Callback, type History, type OptimizerSpec } from '../train/index.js';
import { HeadModel } from './head-model.js';

export interface HeadTrainingOptions {
  head: DenseHeadSpec;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  weightDecay: number;
  labelSmoothing: number;
  /** Standardise features with the training set's mean/std (folded into the exported head). */
  standardize: boolean;
  seed: number;
  /** Early stopping patience in epochs when a validation set is given (0 disables). */
  patience: number;
  callbacks?: Callback[];
  signal?: AbortSignal;
  session?: SessionOptions;
}

export const HEAD_TRAINING_DEFAULTS: HeadTrainingOptions = {
  head: { kind: 'linear' },
  epochs: 60,
  batchSize: 32,
  lr: 1e-3,
  optimizer: 'adam',
  weightDecay: 0,
  labelSmoothing: 0,
  standardize: true,
  seed: 0,
  patience: 10,
};

export function optimizerSpec(
  o: Pick<HeadTrainingOptions, 'optimizer' | 'lr' | 'weightDecay'>,
): OptimizerSpec {
  if (o.optimizer === 'sgd') return { kind: 'sgd', lr: o.lr, momentum: 0.9, weightDecay: o.weightDecay };
  return { kind: o.optimizer, lr: o.lr, weightDecay: o.weightDecay };
}

export async function createHeadModel(
  train: FeatureMatrix,
  numClasses: number,
  o: HeadTrainingOptions,
): Promise<HeadModel> {
  return HeadModel.create({
    spec: o.head,
    inputDim: train.dim,
    numClasses,
    standardize: o.standardize ? fitStandardizer(train) : undefined,
    loss: { labelSmoothing: o.labelSmoothing },
    seed: o.seed,
    uniform: mulberry32(deriveSeed(o.seed, 'init')),
    session: o.session,
  });
}

export interface TrainedHead {
  model: HeadModel;
  history: History;
}

/** Trains a head; with a validation set, stops early on validation loss and keeps the best epoch. */
export async function trainHead(
  train: FeatureMatrix,
  numClasses: number,
  o: HeadTrainingOptions,
  validation?: FeatureMatrix,
  model?: HeadModel,
): Promise<TrainedHead> {
  const head = model ?? (await createHeadModel(train, numClasses, o));
  const callbacks = [...(o.callbacks ?? [])];
  const useVal = validation && validation.labels.length > 0;
  if (useVal && o.patience > 0)
    callbacks.push(new EarlyStopping({ monitor: 'val_loss', patience: o.patience }));
  const history = await fit(head, new MatrixSource(train, o.seed), {
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizer: optimizerSpec(o),
    seed: o.seed,
    validation: useVal ? new MatrixSource(validation, o.seed) : undefined,
    callbacks,
    signal: o.signal,
  });
  return { model: head, history };
}

export async function evaluateHead(model: HeadModel, data: FeatureMatrix): Promise<EvaluationReport> {
  const probs = await model.predictProbs({
    features: { dtype: 'float32', shape: [data.labels.length, data.dim], data: data.data },
  });
  return evaluate(probs, data.labels);
}
