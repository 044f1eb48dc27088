/** Texts: tokenised for an encoder (or counted for tf-idf); encoders pooled, tf-idf's variants compared. */
import { GraftError } from '../errors.js';
import { sha256 } from '../features/cache.js';
import { PIXELS_ID, TFIDF_ID } from '../models/baselines.js';
import type { Example } from '../data/types.js';
import type { Modality } from './types.js';

export const TEXT: Modality = {
  kind: 'text',
  plural: 'texts',
  rankDefaults: [TFIDF_ID],
  // ONNX Runtime's advice for transformers: dynamic quantization of the MatMul weights
  quantizeMode: 'dynamic',
  exampleInput: (e) => ({ text: e.source as string }),
  argumentInput: (text) => ({ text }),
  async encode(inputs, manifest, dir) {
    const texts = inputs.map((x) => {
      if (typeof x === 'object' && 'text' in x) return x.text;
      if (typeof x === 'string') return x;
      throw new GraftError('BAD_INPUT', 'this model classifies text; pass strings');
    });
    const { encodeForManifest } = await import('../text/predict.js');
    return encodeForManifest(texts, manifest, dir);
  },
  async rankCandidates(model, examples, o) {
    if (model === PIXELS_ID)
      throw new GraftError('BAD_OPTION', 'pixels ranks image data; this data set is text (try tfidf)');
    const texts = examples as readonly Example<string>[];
    const { encoderCandidates, tfidfCandidates } = await import('../rank/sources.js');
    return model === TFIDF_ID ? tfidfCandidates(texts, o) : encoderCandidates(model, texts, o);
  },
  inputKey: (text) => Promise.resolve(sha256(text)),
};
