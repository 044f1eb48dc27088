/**
 * The automatic search for text (`method: 'auto'`, the CLI's default): the tf-idf baseline (fitted on the training
 * split, offline) and a frozen pre-trained encoder's pooled features, crossed with the heads left open, scored by
 * cross-validation on the training split (strategies/auto-select.ts, as for images). The winner is then trained
 * on the whole training split and exported by its own path. An encoder that cannot be had (the hub unreachable
 * offline) is listed as skipped with the reason, so text trains with no network at all.
 */
import type { TextDataset } from '../data/types.js';
import { GraftError } from '../errors.js';
import { matrixForIds, type FeatureMatrix } from '../features/matrix.js';
import {
  AUTO_HEADS,
  bestCandidate,
  scoreCandidates,
  type CandidateScore,
  type FeatureCandidate,
} from '../strategies/auto-select.js';
import { resolveTextTrainingArguments } from '../text/finetune/arguments.js';
import { loadTextEncoder } from '../text/encoder.js';
import { TEXT_FEATURES } from '../text/pooling.js';
import { tfidfFeatures } from '../text/tfidf/features.js';
import { TFIDF_FEATURES } from '../text/tfidf/graph.js';
import { fitTfidf } from '../text/tfidf/vectorizer.js';
import { runTextFeatures, textFeatureExtractor, textHeadOptions } from './text-features.js';
import { runTfidfFeatures, TFIDF_ID } from './text-tfidf.js';
import type { TextSplits, TrainTextClassifierOptions, TextTrainResult } from './train-text.js';

/** The encoder the search tries beside tf-idf when none is named (a small sentence encoder, 22M parameters). */
export const DEFAULT_TEXT_ENCODER = 'hub:Xenova/all-MiniLM-L6-v2';

/** The text model id that asks for the search's default encoder. */
export const TEXT_AUTO_MODEL = 'auto';

/** Default time the search may spend scoring candidates, in seconds (as for images). */
const DEFAULT_BUDGET_S = 300;

/** Why an encoder could not be had, when that is a reason to skip it rather than fail the whole search. */
function unavailable(e: unknown): string | undefined {
  if (!(e instanceof GraftError)) return undefined;
  if (e.code === 'NETWORK_ERROR') return 'not available: the model hub cannot be reached';
  if (e.code === 'OFFLINE_MISSING') return 'not available: offline and not in the local cache';
  return undefined;
}

/** The training split's pooled encoder features (cached like every extraction), rows in training order. */
async function encoderCandidate(
  o: TrainTextClassifierOptions,
  train: TextDataset,
  model: string,
): Promise<FeatureCandidate> {
  const args = resolveTextTrainingArguments(o.args);
  const encoder = await loadTextEncoder(model, { hub: o.hub });
  const fx = await textFeatureExtractor(o, args, encoder);
  try {
    const set = await fx.extract(train.examples, { signal: o.signal });
    const data = matrixForIds(set, new Set(train.examples.map((e) => e.id)));
    return { model, tensor: TEXT_FEATURES, data: inTrainingOrder(data, set.ids, train) };
  } finally {
    await fx.release();
  }
}

/** Rows reordered to the training split's order, so every candidate's cross-validation folds line up. */
function inTrainingOrder(m: FeatureMatrix, ids: readonly string[], train: TextDataset): FeatureMatrix {
  const inTrain = new Set(train.examples.map((e) => e.id));
  const rowOf = new Map(ids.filter((id) => inTrain.has(id)).map((id, r) => [id, r]));
  if (rowOf.size !== train.examples.length)
    throw new GraftError('BAD_INPUT', 'the encoder left out training texts; the search needs every one');
  const data = new Float32Array(m.data.length);
  train.examples.forEach((e, i) => {
    const r = rowOf.get(e.id)!;
    data.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), i * m.dim);
  });
  return { data, dim: m.dim, labels: Int32Array.from(train.examples, (e) => e.label) };
}

async function tfidfCandidate(o: TrainTextClassifierOptions, train: TextDataset): Promise<FeatureCandidate> {
  const texts = train.examples.map((e) => e.source);
  const labels = Int32Array.from(train.examples, (e) => e.label);
  const data = await tfidfFeatures(
    fitTfidf(texts),
    texts,
    labels,
    o.threads ? { threads: o.threads } : undefined,
  );
  // tf-idf rows are L2-normalised and sparse: standardising columns would blow rare terms up.
  return { model: TFIDF_ID, tensor: TFIDF_FEATURES, data, head: { standardize: false } };
}

/** The models the search compares: the named encoder (or the default one) and, unless turned off, tf-idf. */
function searchedModels(o: TrainTextClassifierOptions): { model: string; named: boolean }[] {
  const named = o.encoder !== undefined;
  const models = [{ model: o.encoder ?? DEFAULT_TEXT_ENCODER, named }];
  if (o.baseline !== false) models.unshift({ model: TFIDF_ID, named: false });
  return models;
}

export async function runTextAuto(o: TrainTextClassifierOptions, s: TextSplits): Promise<TextTrainResult> {
  const t0 = performance.now();
  const heads = o.head === undefined || o.head === 'auto' ? AUTO_HEADS : [o.head];
  const features: FeatureCandidate[] = [];
  const unreachable: CandidateScore[] = [];
  for (const { model, named } of searchedModels(o)) {
    try {
      features.push(
        model === TFIDF_ID ? await tfidfCandidate(o, s.train) : await encoderCandidate(o, s.train, model),
      );
    } catch (e) {
      const why = unavailable(e);
      if (named || why === undefined) throw e;
      for (const head of heads)
        unreachable.push({
          model,
          tensor: TEXT_FEATURES,
          head,
          dim: 0,
          cvAccuracy: NaN,
          folds: 0,
          seconds: 0,
          skipped: why,
        });
    }
  }
  const args = resolveTextTrainingArguments(o.args);
  const base = textHeadOptions(
    { ...o, head: 'linear' },
    args,
    o.threads ? { threads: o.threads } : undefined,
  );
  const scored = await scoreCandidates(features, s.labels.length, base, {
    heads,
    budgetMs: (o.budget ?? DEFAULT_BUDGET_S) * 1000,
    ...(o.onCandidate ? { onScore: o.onCandidate } : {}),
  });
  const candidates = [...scored, ...unreachable];
  const winner = bestCandidate(candidates);
  const chosen: TrainTextClassifierOptions = { ...o, model: winner.model, head: winner.head };
  const result =
    winner.model === TFIDF_ID
      ? await runTfidfFeatures(chosen, s, candidates)
      : await runTextFeatures(chosen, s, candidates);
  result.seconds.total = (performance.now() - t0) / 1000;
  return result;
}
