/**
 * A linear head's full-batch objective — mean cross-entropy and its gradients, what L-BFGS evaluates dozens of
 * times on the same training rows — in one native pass per evaluation (graft's optimizer addon). The ONNX Runtime
 * training graph reads the feature matrix twice per evaluation (the logits' Gemm, the weight gradient's Gemm);
 * one pass reads each row once for both, and the rows are standardised once, up front, with the float32 Sub and
 * Div the exported head applies. Without the addon (not built, GRAFT_NATIVE=0) heads keep the graph's path.
 */
import type { CrossEntropyOptions } from '../autodiff/index.js';
import { GraftError } from '../errors.js';
import type { Objective } from '../train/lbfgs.js';
import { addonThreads, optimAddon } from '../train/optim-addon.js';
import type { DenseHeadSpec, Standardizer } from './dense.js';

export interface LinearObjectiveInput {
  /** [rows × dim] as given; standardised here when `standardize` is set. */
  features: Float32Array;
  dim: number;
  labels: Int32Array;
  numClasses: number;
  standardize?: Standardizer;
  labelSmoothing?: number;
  threads?: number;
}

/**
 * Whether the one-pass objective computes this head's loss: a linear head without dropout (no noise to draw), with
 * plain mean cross-entropy (label smoothing included; class weights and summed losses stay on the graph's path).
 */
export function fusesLinearObjective(spec: DenseHeadSpec, loss: CrossEntropyOptions = {}): boolean {
  return (
    spec.kind === 'linear' &&
    !((spec.dropout ?? 0) > 0) &&
    loss.classWeights === undefined &&
    (loss.reduction ?? 'mean') === 'mean'
  );
}

/** The one-pass objective; `release` gives up its standardised rows (the objective must not run after it). */
export type LinearObjective = Objective & { release(): void };

/**
 * The standardised rows of the last objective released, held weakly: the next objective whose rows fit takes the
 * array instead of fresh memory (8,000 × 1280 rows are 41 MB, ~10,000 page faults when fresh). The search fits
 * dozens of heads one after another; nothing is kept alive by this alone.
 */
let releasedRows: WeakRef<Float32Array> | undefined;

function rowsBuffer(length: number): Float32Array {
  const spare = releasedRows?.deref();
  if (spare && spare.length >= length) {
    releasedRows = undefined;
    return spare;
  }
  return new Float32Array(length);
}

/**
 * The objective over `params`' dense0/weight [classes × dim] and dense0/bias [classes], read at every call (the
 * solver writes them in place); undefined when the addon is not available.
 */
export function linearSoftmaxObjective(
  params: ReadonlyMap<string, Float32Array>,
  input: LinearObjectiveInput,
): LinearObjective | undefined {
  const addon = optimAddon();
  if (!addon) return undefined;
  const threads = input.threads ?? addonThreads();
  const { dim, numClasses, labels } = input;
  let x = input.features;
  let owned: Float32Array | undefined;
  if (input.standardize) {
    owned = rowsBuffer(input.features.length);
    x = owned.subarray(0, input.features.length);
    addon.standardize(input.features, input.standardize.mean, input.standardize.std, x, threads);
  }
  const gradWeight = new Float32Array(numClasses * dim);
  const gradBias = new Float32Array(numClasses);
  const smoothing = input.labelSmoothing ?? 0;
  let released = false;
  const objective = async () => {
    if (released) throw new GraftError('RUNTIME_ERROR', 'the linear objective ran after its release');
    let loss: number;
    try {
      loss = addon.softmaxRegression(
        x,
        labels,
        params.get('dense0/weight')!,
        params.get('dense0/bias')!,
        gradWeight,
        gradBias,
        smoothing,
        threads,
      );
    } catch (e) {
      if (e instanceof RangeError)
        throw new GraftError('BAD_INPUT', `a label is outside 0..${numClasses - 1}`, { classes: numClasses });
      throw e;
    }
    return {
      loss,
      gradients: new Map([
        ['dense0/weight', gradWeight],
        ['dense0/bias', gradBias],
      ]),
    };
  };
  return Object.assign(objective, {
    release: () => {
      released = true;
      if (owned) releasedRows = new WeakRef(owned);
      owned = undefined;
    },
  });
}
