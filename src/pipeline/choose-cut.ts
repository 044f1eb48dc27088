/**
 * Where fine-tuning cuts the backbone when `features` is `auto`: the candidate feature (cut and pooling) whose
 * linear probe cross-validates best on the training split, so LP-FT starts from the best probe rather than from
 * the final features.
 */
import type { Example, ImageSource } from '../data/types.js';
import type { Backbone } from '../models/registry.js';
import { bestCandidate, scoreCandidates } from '../strategies/auto-select.js';
import { HEAD_TRAINING_DEFAULTS } from '../heads/fit-dense.js';
import type { TrainEvent } from './events.js';
import { extractSource, sourceMatrix } from './feature-sources.js';
import type { TrainClassifierOptions } from './options.js';

export async function chooseCut(
  backbone: Backbone,
  train: readonly Example<ImageSource>[],
  o: Pick<
    TrainClassifierOptions,
    'cacheDir' | 'threads' | 'onBadInput' | 'signal' | 'seed' | 'budget' | 'weightDecay'
  >,
  numClasses: number,
  emit: (e: TrainEvent) => void,
): Promise<string> {
  const { spec } = backbone;
  const features = [...new Set([...spec.candidateFeatures, spec.featureTensor])];
  if (features.length === 1) return features[0]!;
  emit({
    type: 'stage',
    stage: 'select',
    message: 'choosing the cut by cross-validation on the training split',
  });
  const source = await extractSource(backbone, features, train, o, emit);
  const ids = new Set(source.set.ids);
  const scores = await scoreCandidates(
    features.map((tensor) => ({ model: spec.id, tensor, data: sourceMatrix(source, tensor, ids) })),
    numClasses,
    {
      ...HEAD_TRAINING_DEFAULTS,
      kind: 'linear',
      hidden: [],
      dropout: 0,
      k: 1,
      weightDecay: o.weightDecay,
      seed: o.seed,
      session: o.threads ? { threads: o.threads } : undefined,
    },
    { heads: ['linear'], budgetMs: o.budget * 1000, onScore: (score) => emit({ type: 'candidate', score }) },
  );
  return bestCandidate(scores).tensor;
}
