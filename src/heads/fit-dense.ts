/** Training a dense head on cached features: the feature-extraction recipe's inner loop. */
import { GraftError } from '../errors.js';
import { deriveSeed, mulberry32 } from '../data/random.js';
import { evaluate, type EvaluationReport } from '../eval/report.js';
import { fitStandardizer, MatrixSource, type FeatureMatrix } from '../features/matrix.js';
import type { DenseHeadSpec } from './dense.js';
import type { SessionOptions } from '../runtime/session.js';
import { EarlyStopping, fit, type Callback, type History, type OptimizerSpec } from '../train/index.js';
import { minimizeLbfgs } from '../train/lbfgs.js';
import { HeadModel } from './head-model.js';
import { fusesLinearObjective, linearSoftmaxObjective } from './linear-objective.js';
import { optimAddon } from '../train/optim-addon.js';

/** 'auto': L-BFGS for linear heads (full batch, like scikit-learn), Adam otherwise. */
export type HeadOptimizer = 'auto' | 'lbfgs' | 'adam' | 'adamw' | 'sgd';

export interface HeadTrainingOptions {
  head: DenseHeadSpec;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: HeadOptimizer;
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
  optimizer: 'auto',
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
  const kind = o.optimizer === 'adamw' ? 'adamw' : 'adam';
  return { kind, lr: o.lr, weightDecay: o.weightDecay };
}

export function usesLbfgs(o: Pick<HeadTrainingOptions, 'optimizer' | 'head'>): boolean {
  return o.optimizer === 'lbfgs' || (o.optimizer === 'auto' && o.head.kind === 'linear');
}

export async function createHeadModel(
  train: FeatureMatrix,
  numClasses: number,
  o: HeadTrainingOptions,
  fullBatch = false,
): Promise<HeadModel> {
  return HeadModel.create({
    fixedBatch: fullBatch ? { features: train.data, labels: train.labels } : undefined,
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
  if (usesLbfgs(o)) return trainHeadLbfgs(train, numClasses, o);
  const head = model ?? (await createHeadModel(train, numClasses, o));
  const callbacks = [...(o.callbacks ?? [])];
  const useVal = validation && validation.labels.length > 0;
  if (useVal && o.patience > 0)
    callbacks.push(new EarlyStopping({ monitor: 'val_loss', patience: o.patience }));
  try {
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
  } catch (e) {
    // a diverged or cancelled fit: the sessions of a head made here go with it
    if (!model) await head.release();
    throw e;
  }
}

/**
 * Full-batch L-BFGS on mean cross-entropy + ½·l2·‖W‖² with l2 = weightDecay, or 1/n by default — the objective
 * of scikit-learn's LogisticRegression(C=1). The training set lives in the graph; steps feed only parameters.
 */
async function trainHeadLbfgs(
  train: FeatureMatrix,
  numClasses: number,
  o: HeadTrainingOptions,
): Promise<TrainedHead> {
  const fused = fusesLinearObjective(o.head) && optimAddon() !== undefined;
  // the one-pass objective reads its own standardised rows; the graph's path keeps the batch in the graph's feeds
  const head = await createHeadModel(train, numClasses, o, !fused);
  const onePass = fused
    ? linearSoftmaxObjective(head.params, {
        features: train.data,
        dim: train.dim,
        labels: train.labels,
        numClasses,
        standardize: head.options.standardize,
        labelSmoothing: o.labelSmoothing,
        threads: o.session?.threads,
      })
    : undefined;
  const objective = onePass ?? (() => head.fullBatchGradients());
  const n = train.labels.length;
  const weights = new Set([...head.params.keys()].filter((k) => k.endsWith('/weight')));
  let r: Awaited<ReturnType<typeof minimizeLbfgs>>;
  try {
    r = await minimizeLbfgs(head.params, objective, {
      maxIter: Math.max(100, o.epochs),
      l2: o.weightDecay > 0 ? o.weightDecay : 1 / n,
      penalized: weights,
      signal: o.signal,
    });
    // L-BFGS has no learning rate to lower: a loss that is not finite comes from the features
    if (!Number.isFinite(r.loss))
      throw new GraftError(
        'BAD_INPUT',
        `training diverged: the linear head's loss is ${r.loss}; the features hold NaN or infinite values`,
      );
  } catch (e) {
    await head.release();
    throw e;
  } finally {
    onePass?.release();
  }
  const record = {
    epoch: 0,
    step: r.iterations,
    trainLoss: r.loss,
    metrics: { train_loss: r.loss, iterations: r.iterations },
  };
  return {
    model: head,
    history: { epochs: [record], stopReason: 'completed' },
  };
}

export async function evaluateHead(model: HeadModel, data: FeatureMatrix): Promise<EvaluationReport> {
  const probs = await model.predictProbs({
    features: { dtype: 'float32', shape: [data.labels.length, data.dim], data: data.data },
  });
  return evaluate(probs, data.labels);
}
