/**
 * LP-FT's "LP" done properly: a converged linear probe (full-batch L-BFGS on cached pooled features, the same
 * solver as the feature-extraction pipeline) becomes the fine-tuning head's starting point, with its feature
 * standardisation folded into the weights — so fine-tuning starts where the best linear probe ends, instead of
 * from an epoch of Adam on a random head.
 */
import type { Example, ImageSource } from '../data/types.js';
import { FeatureExtractor } from '../features/extract.js';
import type { Backbone } from '../models/registry.js';
import { fitHead } from '../strategies/heads.js';
import type { SessionOptions } from '../runtime/session.js';

export interface WarmStartOptions {
  featureTensor: string;
  numClasses: number;
  seed: number;
  cacheDir?: string | false;
  onBadInput: 'skip' | 'fail';
  session?: SessionOptions;
}

/** Returns the linear head's weight ([dim, classes], row-major) and bias, standardisation folded in. */
export async function linearProbeHead(
  backbone: Backbone,
  train: readonly Example<ImageSource>[],
  o: WarmStartOptions,
): Promise<{ weight: Float32Array; bias: Float32Array }> {
  const { spec } = backbone;
  if (spec.preprocess.kind !== 'image') throw new Error('warm start needs an image backbone');
  const extractor = await FeatureExtractor.create(
    backbone.model,
    spec.inputName,
    spec.preprocess,
    [o.featureTensor],
    {
      cacheDir: o.cacheDir,
      session: o.session,
    },
  );
  const set = await extractor.extract(train, { onBadInput: o.onBadInput });
  await extractor.release();
  const dim = set.dims[0]!;
  const head = await fitHead({ data: set.matrices[0]!, dim, labels: set.labels }, o.numClasses, {
    kind: 'linear',
    hidden: [],
    dropout: 0,
    k: 1,
    epochs: 100,
    batchSize: 32,
    lr: 1e-3,
    optimizer: 'auto',
    weightDecay: 0,
    labelSmoothing: 0,
    // Unstandardised: weights on the raw feature scale stay well conditioned when the backbone then moves.
    standardize: false,
    seed: o.seed,
    patience: 0,
    session: o.session,
  });
  const graph = head.exportGraph();
  await head.release();
  const init = (prefix: string) =>
    [...graph.initializers].find(([k]) => k.startsWith(prefix))?.[1]?.data as Float32Array | undefined;
  const w = init('dense0/weight')!;
  const b = init('dense0/bias')!;
  const mean = init('standardize/mean');
  const std = init('standardize/std');
  const c = o.numClasses;
  // (x - m) / s · W + b  =  x · (W / s) + (b - (m / s) · W)
  const weight = new Float32Array(w.length);
  const bias = Float32Array.from(b);
  for (let i = 0; i < dim; i++) {
    const s = std ? std[i]! : 1;
    const m = mean ? mean[i]! : 0;
    for (let j = 0; j < c; j++) {
      weight[i * c + j] = w[i * c + j]! / s;
      bias[j]! -= (m / s) * w[i * c + j]!;
    }
  }
  return { weight, bias };
}
