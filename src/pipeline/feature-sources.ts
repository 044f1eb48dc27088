/**
 * Feature sources of a run: the backbone (at one or several feature ids) and, when asked, the no-transfer
 * baseline, each extracted once over every example (cached on disk by content) and sessions released even when
 * extraction fails. Examples the extractor could not decode are reported as one BAD_IMAGE warning event (once per
 * run: the baseline's extraction of the same files passes `reportSkipped` false).
 */
import type { Example, ImageSource } from '../data/types.js';
import { unreadableWarning } from '../data/warnings.js';
import { GraftError } from '../errors.js';
import { FeatureExtractor, type FeatureSet } from '../features/extract.js';
import { matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import type { Backbone } from '../models/registry.js';
import type { TrainEvent } from './events.js';
import type { TrainClassifierOptions } from './options.js';

export interface FeatureSource {
  backbone: Backbone;
  set: FeatureSet;
}

export async function extractSource(
  backbone: Backbone,
  features: readonly string[],
  examples: readonly Example<ImageSource>[],
  o: Pick<TrainClassifierOptions, 'cacheDir' | 'threads' | 'onBadInput' | 'signal'>,
  emit: (e: TrainEvent) => void,
  reportSkipped = true,
): Promise<FeatureSource> {
  const spec = backbone.spec;
  if (spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', `${spec.id} is not an image model; use a text data set with it`);
  const extractor = await FeatureExtractor.create(backbone.model, spec.inputName, spec.preprocess, features, {
    cacheDir: o.cacheDir,
    session: o.threads ? { threads: o.threads } : undefined,
  });
  try {
    const set = await extractor.extract(examples, {
      onBadInput: o.onBadInput,
      signal: o.signal,
      onProgress: (progress) => emit({ type: 'extract', progress }),
    });
    if (reportSkipped)
      for (const warning of unreadableWarning(set.skipped)) emit({ type: 'warning', warning });
    return { backbone, set };
  } finally {
    await extractor.release();
  }
}

/** The rows of one feature of a source for the examples in `ids` (in extraction order). */
export function sourceMatrix(
  source: FeatureSource,
  feature: string,
  ids: ReadonlySet<string>,
): FeatureMatrix {
  const index = source.set.tensors.indexOf(feature);
  if (index < 0) throw new GraftError('BAD_OPTION', `feature '${feature}' was not extracted`);
  return matrixForIds(source.set, ids, index);
}
