/** The contracts between the Trainer, the models it trains and the data it reads. */
import type { Tensor } from '../tensor.js';

export interface Batch {
  inputs: Record<string, Tensor>;
  labels: Int32Array;
}

/** A generator of uniform floats in [0, 1). */
export type Uniform = () => number;

/** Anything with named float32 parameters, a loss+gradient step and a forward pass to probabilities. */
export interface TrainableModel {
  /** Updated in place by the optimizer. */
  readonly params: Map<string, Float32Array>;
  /**
   * Mean loss over the batch and its gradients (mean over the batch) for the trainable params. Randomness
   * (dropout) draws from `uniform`: the Trainer passes its seeded generator, whose state checkpoints keep.
   */
  computeGradients(
    batch: Batch,
    uniform?: Uniform,
  ): Promise<{ loss: number; gradients: Map<string, Float32Array> }>;
  /** N×C probabilities. */
  predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array>;
  /** Shape of a parameter or buffer, when the model knows it (saved in checkpoints, compared on resume). */
  shapeOf?(name: string): readonly number[] | undefined;
}

/** A data set in batches. The order for (epoch, shuffle) must be a pure function of the source's seed. */
export interface DataSource {
  size: number;
  batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch>;
}
