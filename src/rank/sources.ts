/**
 * The candidates' features, per modality: an image backbone (or `pixels`) gives one feature matrix per
 * candidate cut from one extraction pass (cached on disk); `tfidf` gives its variants; a text encoder its pooled
 * features.
 */
import type { Example, ImageSource } from '../data/types.js';
import { GraftError } from '../errors.js';
import { FeatureExtractor } from '../features/extract.js';
import { matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import { loadBackbone } from '../models/registry.js';
import type { SessionOptions } from '../runtime/session.js';
import { TextFeatureExtractor } from '../text/extract.js';
import { loadTextEncoder } from '../text/encoder.js';
import { tfidfFeatures } from '../text/tfidf/features.js';
import { fitTfidf, type TfidfOptions } from '../text/tfidf/vectorizer.js';

export interface CandidateFeatures {
  feature: string;
  matrix: FeatureMatrix;
}

export interface SourceOptions {
  cacheDir?: string | false;
  session?: SessionOptions;
  onBadInput?: 'skip' | 'fail';
  signal?: AbortSignal;
  /** Told of the examples an extraction left out (they could not be decoded). */
  onSkipped?: (skipped: readonly { id: string; reason: string }[]) => void;
}

/** Every candidate cut of an image model (registry candidates and its final features) for `examples`. */
export async function imageCandidates(
  model: string,
  examples: readonly Example<ImageSource>[],
  o: SourceOptions,
): Promise<CandidateFeatures[]> {
  const backbone = await loadBackbone(model, { examples });
  const { spec } = backbone;
  if (spec.preprocess.kind !== 'image')
    throw new GraftError('BAD_OPTION', `${model} is not an image model; the data set is images`);
  const tensors = [...new Set([...spec.candidateFeatures, spec.featureTensor])];
  const fx = await FeatureExtractor.create(backbone.model, spec.inputName, spec.preprocess, tensors, {
    ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
    ...(o.session ? { session: o.session } : {}),
  });
  try {
    const set = await fx.extract(examples, {
      ...(o.onBadInput ? { onBadInput: o.onBadInput } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    o.onSkipped?.(set.skipped);
    const ids = new Set(set.ids);
    return set.tensors.map((feature, t) => ({ feature, matrix: matrixForIds(set, ids, t) }));
  } finally {
    await fx.release();
  }
}

/** tf-idf variants worth comparing: the default (unigrams + bigrams), unigrams only, a 2,000-term vocabulary. */
export const TFIDF_VARIANTS: readonly { name: string; options: Partial<TfidfOptions> }[] = [
  { name: 'unigrams+bigrams', options: {} },
  { name: 'unigrams', options: { ngramRange: [1, 1] } },
  { name: 'unigrams+bigrams, 2k terms', options: { maxFeatures: 2000 } },
];

/** tf-idf features (vectoriser fitted on `examples`, the training split) for each variant. */
export async function tfidfCandidates(
  examples: readonly Example<string>[],
  o: SourceOptions,
): Promise<CandidateFeatures[]> {
  const texts = examples.map((e) => e.source);
  const labels = Int32Array.from(examples, (e) => e.label);
  const out: CandidateFeatures[] = [];
  for (const v of TFIDF_VARIANTS) {
    const vec = fitTfidf(texts, v.options);
    out.push({ feature: v.name, matrix: await tfidfFeatures(vec, texts, labels, o.session) });
  }
  return out;
}

/** Pooled features of a Hugging Face-layout text encoder (`file:` or `hub:`), CLS and mean pooling. */
export async function encoderCandidates(
  model: string,
  examples: readonly Example<string>[],
  o: SourceOptions,
): Promise<CandidateFeatures[]> {
  const encoder = await loadTextEncoder(model);
  const out: CandidateFeatures[] = [];
  for (const pooling of ['cls', 'mean'] as const) {
    const fx = await TextFeatureExtractor.fromEncoder(encoder, {
      pooling,
      ...(o.cacheDir !== undefined ? { cacheDir: o.cacheDir } : {}),
      ...(o.session ? { session: o.session } : {}),
    });
    try {
      const set = await fx.extract(examples, o.signal ? { signal: o.signal } : {});
      out.push({ feature: `${pooling} pooling`, matrix: matrixForIds(set, new Set(set.ids)) });
    } finally {
      await fx.release();
    }
  }
  return out;
}
