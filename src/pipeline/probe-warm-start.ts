/**
 * LP-FT's "LP" done properly: a converged linear probe (full-batch L-BFGS on cached pooled features, the same
 * solver as the feature-extraction pipeline) becomes the fine-tuning head's starting point — so fine-tuning starts
 * where the best linear probe ends, instead of from an epoch of Adam on a random head. The probe is also scored
 * on the validation and held-out examples, so a fine-tuned model that ends below it is not shipped.
 */
import { GraftError } from '../errors.js';
import type { Example, ImageSource } from '../data/types.js';
import { FeatureExtractor } from '../features/extract.js';
import { matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import type { Backbone } from '../models/registry.js';
import type { Graph } from '../onnx/ir.js';
import { HEAD_TRAINING_DEFAULTS } from '../heads/fit-dense.js';
import { fitHead } from '../heads/fitted.js';
import type { SessionOptions } from '../runtime/session.js';

export interface WarmStartOptions {
  /** Feature id (features/feature-id.ts). */
  featureTensor: string;
  numClasses: number;
  seed: number;
  cacheDir?: string | false;
  onBadInput: 'skip' | 'fail';
  session?: SessionOptions;
}

export interface LinearProbe {
  /** [classes, dim], row-major (the dense head layout), on unstandardised features. */
  weight: Float32Array;
  bias: Float32Array;
  /** features → probabilities with the probe's weights, for export. */
  head: Graph;
  /** Probabilities per scored part, rows in the order of the part's examples that could be read. */
  probs: Record<string, { probs: Float32Array; labels: Int32Array }>;
}

/** Fits the probe on `train` and scores it on each of `score`'s parts. */
export async function linearProbe(
  backbone: Backbone,
  train: readonly Example<ImageSource>[],
  o: WarmStartOptions,
  score: Record<string, readonly Example<ImageSource>[]> = {},
): Promise<LinearProbe> {
  const { spec } = backbone;
  if (spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', 'warm start needs an image backbone');
  const extractor = await FeatureExtractor.create(
    backbone.model,
    spec.inputName,
    spec.preprocess,
    [o.featureTensor],
    { cacheDir: o.cacheDir, session: o.session },
  );
  const all = [...train, ...Object.values(score).flat()];
  const set = await extractor.extract(all, { onBadInput: o.onBadInput }).finally(() => extractor.release());
  const rows = (exs: readonly Example<ImageSource>[]) => matrixForIds(set, new Set(exs.map((e) => e.id)));
  const parts = Object.fromEntries(
    Object.entries(score).flatMap(([part, exs]) => (exs.length === 0 ? [] : [[part, rows(exs)]])),
  );
  return fitLinearProbe(rows(train), parts, o);
}

/**
 * The probe itself, for any modality: an L-BFGS linear head on frozen features (`train`), scored on each of
 * `score`'s parts. Images pass pooled backbone features, text the pooled encoder states its head reads.
 */
export async function fitLinearProbe(
  train: FeatureMatrix,
  score: Record<string, FeatureMatrix>,
  o: Pick<WarmStartOptions, 'numClasses' | 'seed' | 'session'>,
): Promise<LinearProbe> {
  const head = await fitHead(train, o.numClasses, {
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
    const probs: LinearProbe['probs'] = {};
    for (const [part, m] of Object.entries(score))
      probs[part] = { probs: await head.predictProbs(m), labels: m.labels };
    return { weight: param('dense0/weight'), bias: param('dense0/bias'), head: graph, probs };
  } finally {
    await head.release();
  }
}
