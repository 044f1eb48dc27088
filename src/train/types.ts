/** The contracts between the Trainer, the models it trains and the data it reads. */
import type { Tensor } from '../tensor.js';

export interface Batch {
  inputs: Record<string, Tensor>;
  labels: Int32Array;
}

/** Anything with named float32 parameters, a loss+gradient step and a forward pass to probabilities. */
export interface TrainableModel {
  /** Updated in place by the optimizer. */
  readonly params: Map<string, Float32Array>;
  /** Mean loss over the batch and its gradients (mean over the batch) for the trainable params. */
  computeGradients(batch: Batch): Promise<{ loss: number; gradients: Map<string, Float32Array> }>;
  /** N×C probabilities. */
  predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array>;
}

/** A data set in batches. The order for (epoch, shuffle) must be a pure function of the source's seed. */
export interface DataSource {
  size: number;
  batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch>;
}
