/**
 * tf-idf features for training and the deployable model: term counts (TypeScript) through the weighting graph
 * (ONNX Runtime), so the features a head trains on are computed exactly as the exported model.onnx computes
 * them.
 */
import type { FeatureMatrix } from '../../features/matrix.js';
import { mergeBackboneAndHead } from '../../export/merge.js';
import type { Graph, Model } from '../../onnx/ir.js';
import { Session, type SessionOptions } from '../../runtime/session.js';
import { TFIDF_FEATURES, TFIDF_INPUT, tfidfGraph } from './graph.js';
import type { TfidfVectorizer } from './vectorizer.js';

/** Texts per ONNX Runtime run: a batch of counts is rows × vocabulary floats. */
const BATCH = 256;

/** tf-idf rows for `texts` (with their labels) as a feature matrix. */
export async function tfidfFeatures(
  vectorizer: TfidfVectorizer,
  texts: readonly string[],
  labels: Int32Array,
  session: SessionOptions = {},
): Promise<FeatureMatrix> {
  const v = vectorizer.size;
  const data = new Float32Array(texts.length * v);
  const s = await Session.create(tfidfGraph(vectorizer), session);
  try {
    const counts = new Float32Array(BATCH * v);
    for (let start = 0; start < texts.length; start += BATCH) {
      const part = texts.slice(start, start + BATCH);
      vectorizer.counts(part, counts);
      const feeds = {
        [TFIDF_INPUT]: {
          dtype: 'float32' as const,
          shape: [part.length, v],
          data: counts.subarray(0, part.length * v),
        },
      };
      const out = await s.run(feeds, [TFIDF_FEATURES]);
      data.set(out[TFIDF_FEATURES]!.data as Float32Array, start * v);
    }
  } finally {
    await s.release();
  }
  return { data, dim: v, labels };
}

/** One deployable graph: term counts → tf-idf → `head` (probabilities). */
export function tfidfClassifierModel(vectorizer: TfidfVectorizer, head: Graph): Model {
  return mergeBackboneAndHead(tfidfGraph(vectorizer), TFIDF_FEATURES, head);
}
