/**
 * The tf-idf weighting as an ONNX graph: term counts [N, V] → sublinear tf → × idf → L2-normalised rows
 * [N, V]. It is the "backbone" of a tf-idf model: the head is appended to its output, so model.onnx holds the
 * weighting and the head, and a caller only counts terms over tfidf.json's vocabulary.
 */
import { attr, GraphBuilder } from '../../onnx/builder.js';
import { createModel, type Model } from '../../onnx/ir.js';
import { float32 } from '../../tensor.js';
import type { TfidfVectorizer } from './vectorizer.js';

export const TFIDF_INPUT = 'term_counts';
export const TFIDF_FEATURES = 'tfidf';

export function tfidfGraph(vectorizer: TfidfVectorizer): Model {
  const v = vectorizer.size;
  const o = vectorizer.options;
  const b = new GraphBuilder('tfidf');
  b.input(TFIDF_INPUT, 'float32', ['batch', v]);
  let x = TFIDF_INPUT;
  if (o.sublinearTf) {
    // Counts are whole numbers: 1 + ln(c) for c ≥ 1 and 0 for c = 0 is min(c, 1) + ln(max(c, 1)).
    const one = b.constant('one', float32([], [1]));
    const present = b.op('Min', [x, one]);
    const logTf = b.op('Log', [b.op('Max', [x, one])]);
    x = b.op('Add', [present, logTf]);
  }
  const idf = b.constant('idf', float32([v], vectorizer.idf));
  if (o.norm === 'none') {
    b.node('Mul', [x, idf], {}, { outputs: [TFIDF_FEATURES] });
  } else {
    const weighted = b.op('Mul', [x, idf]);
    const sq = b.op('ReduceSumSquare', [weighted], { axes: attr.ints([1]), keepdims: attr.int(1) });
    // An empty row (no known term) has norm 0 and stays 0, as in scikit-learn.
    const norm = b.op('Max', [b.op('Sqrt', [sq]), b.constant('tiny', float32([], [1e-12]))]);
    b.node('Div', [weighted, norm], {}, { outputs: [TFIDF_FEATURES] });
  }
  b.output(TFIDF_FEATURES, 'float32', ['batch', v]);
  return createModel(b.graph, 13);
}
