/** The text pipeline: tokenizers, encoding, text encoders, pooling, feature extraction, predict-time encoding. */

export { loadTokenizer, TOKENIZER_FILES, type TextTokenizer } from './tokenizer.js';
export {
  encodeText,
  encodeTexts,
  packEncoded,
  type EncodeOptions,
  type EncodedBatch,
  type EncodedText,
} from './encode.js';
export {
  checkVocab,
  embeddingRows,
  loadTextEncoder,
  MODEL_CANDIDATES,
  type LoadedTextEncoder,
  type LoadTextEncoderOptions,
} from './encoder.js';
export { appendPooling, TEXT_FEATURES, type PoolingOptions, type TextPooling } from './pooling.js';
export {
  TextFeatureExtractor,
  textFeeds,
  type TextFeatureExtractorOptions,
  type TextFeatureSet,
} from './extract.js';
export { copyTokenizerFiles, encodeForManifest } from './predict.js';
export { readJson, textPreprocessFrom } from './hub-config.js';
export { decodeUtf8, TextWarnings, type TextWarning, type TextWarningCode } from './warnings.js';
