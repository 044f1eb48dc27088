/**
 * Feature sources of a run: the backbone (at one or several feature ids) and, when asked, the no-transfer
 * baseline, each extracted once over every example (cached on disk by content) and sessions released even when
 * extraction fails. Examples the extractor could not decode are reported as one BAD_IMAGE warning event (once per
 * run: the baseline's extraction of the same files passes `reportSkipped` false).
 */
import type { Example, ImageSource } from '../data/types.js';
import { unreadableWarning } from '../data/warnings.js';
import { GraftError } from '../errors.js';
import type { AugmentOptions } from '../augment/image.js';
import { FeatureExtractor, type ExtractProgress, type FeatureSet } from '../features/extract.js';
import { featureParts, formatFeatureId, isConcatenation } from '../features/feature-id.js';
import { concatColumns, matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import { viewRows, type MatrixViews, type ViewUse } from '../features/view-matrix.js';
import type { Backbone } from '../models/registry.js';
import type { TrainEvent } from './events.js';
import type { TrainClassifierOptions } from './options.js';

export interface FeatureSource {
  backbone: Backbone;
  set: FeatureSet;
  /** Augmented views of the training examples (view 1, 2, …), when asked for. */
  views: FeatureSet[];
}

/** Feature-level augmentation: `count` augmented views of each of `examples` (the training ones only). */
export interface ViewRequest {
  examples: readonly Example<ImageSource>[];
  count: number;
  seed: number;
  augment: AugmentOptions;
}

export async function extractSource(
  backbone: Backbone,
  features: readonly string[],
  examples: readonly Example<ImageSource>[],
  o: Pick<TrainClassifierOptions, 'cacheDir' | 'threads' | 'onBadInput' | 'signal'>,
  emit: (e: TrainEvent) => void,
  views?: ViewRequest,
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
    const options = {
      onBadInput: o.onBadInput,
      signal: o.signal,
      onProgress: (progress: ExtractProgress) => emit({ type: 'extract', progress }),
    };
    const set = await extractor.extract(examples, options);
    if (reportSkipped)
      for (const warning of unreadableWarning(set.skipped)) emit({ type: 'warning', warning });
    const viewSets: FeatureSet[] = [];
    for (let index = 1; index <= (views?.count ?? 0); index++) {
      emit({ type: 'stage', stage: 'extract', message: `augmented view ${index} of ${views!.count}` });
      const view = { index, seed: views!.seed, augment: views!.augment };
      viewSets.push(await extractor.extract(views!.examples, { ...options, view }));
    }
    return { backbone, set, views: viewSets };
  } finally {
    await extractor.release();
  }
}

/**
 * The rows of one feature of a source for the examples in `ids` (in extraction order). A concatenation `a+b` that
 * was not extracted as such is put together from its extracted parts.
 */
export function sourceMatrix(
  source: FeatureSource,
  feature: string,
  ids: ReadonlySet<string>,
): FeatureMatrix {
  const parts = extractedParts(source, feature);
  return concatColumns(parts.map((index) => matrixForIds(source.set, ids, index)));
}

/** The augmented views of `sourceMatrix(source, feature, ids)`'s rows, row for row (none when none were extracted). */
export function sourceViews(
  source: FeatureSource,
  feature: string,
  ids: ReadonlySet<string>,
  use: ViewUse,
): MatrixViews | undefined {
  if (source.views.length === 0) return undefined;
  const order = source.set.ids.filter((id) => ids.has(id));
  const parts = extractedParts(source, feature);
  const matrices = source.views.map((v) => concatColumns(parts.map((index) => viewRows(v, order, index))));
  return { matrices, use };
}

/** Indices into the extracted tensors: the feature itself, or each part of a concatenation. */
function extractedParts(source: FeatureSource, feature: string): number[] {
  const own = source.set.tensors.indexOf(feature);
  if (own >= 0) return [own];
  const parts = isConcatenation(feature) ? featureParts(feature).map(formatFeatureId) : [feature];
  return parts.map((part) => {
    const index = source.set.tensors.indexOf(part);
    if (index < 0) throw new GraftError('BAD_OPTION', `feature '${part}' was not extracted`);
    return index;
  });
}
