/**
 * LP-FT's "LP" done properly: a converged linear probe (full-batch L-BFGS on cached pooled features, the same
 * solver as the feature-extraction pipeline) becomes the fine-tuning head's starting point — so fine-tuning starts
 * where the best linear probe ends, instead of from an epoch of Adam on a random head.
 */
import { GraftError } from '../errors.js';
import type { Example, ImageSource } from '../data/types.js';
import { FeatureExtractor } from '../features/extract.js';
import type { Backbone } from '../models/registry.js';
import { HEAD_TRAINING_DEFAULTS } from '../strategies/fit-head.js';
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

/** Returns the linear head's weight ([classes, dim], row-major) and bias, on unstandardised features. */
export async function linearProbeHead(
  backbone: Backbone,
  train: readonly Example<ImageSource>[],
  o: WarmStartOptions,
): Promise<{ weight: Float32Array; bias: Float32Array }> {
  const { spec } = backbone;
  if (spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', 'warm start needs an image backbone');
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
  const set = await extractor.extract(train, { onBadInput: o.onBadInput }).finally(() => extractor.release());
  const dim = set.dims[0]!;
  const head = await fitHead({ data: set.matrices[0]!, dim, labels: set.labels }, o.numClasses, {
    ...HEAD_TRAINING_DEFAULTS,
    kind: 'linear',
    hidden: [],
    dropout: 0,
    k: 1,
    // Unstandardised: weights on the raw feature scale stay well conditioned when the backbone then moves.
    standardize: false,
    seed: o.seed,
    session: o.session,
  });
  try {
    const graph = head.exportGraph();
    const param = (name: string) => Float32Array.from(graph.initializers.get(name)!.data as Float32Array);
    return { weight: param('dense0/weight'), bias: param('dense0/bias') };
  } finally {
    await head.release();
  }
}
