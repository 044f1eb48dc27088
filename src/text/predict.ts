/**
 * The text side of `Classifier.predict`: an exported text model directory holds model.onnx (encoder + pooling +
 * head), graft.json (preprocess kind 'text') and the tokenizer files; the text modality (modalities/text.ts) turns
 * texts into its feeds here.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import type { ModelManifest } from '../export/manifest.js';
import type { Tensor } from '../tensor.js';
import { encodeTexts } from './encode.js';
import { tfidfFeeds } from './tfidf/predict.js';
import { textFeeds } from './extract.js';
import { loadTokenizer, TOKENIZER_FILES, type TextTokenizer } from './tokenizer.js';

const tokenizers = new Map<string, Promise<TextTokenizer>>();

function tokenizerFor(dir: string): Promise<TextTokenizer> {
  let t = tokenizers.get(dir);
  if (!t) {
    t = loadTokenizer(dir);
    tokenizers.set(dir, t);
    t.catch(() => tokenizers.delete(dir));
  }
  return t;
}

/** Texts → the exported model's feeds. Empty texts become the special tokens alone; long ones are truncated. */
export async function encodeForManifest(
  texts: readonly string[],
  manifest: ModelManifest,
  dir: string,
): Promise<Record<string, Tensor>> {
  const pre = manifest.preprocess;
  if (pre.kind !== 'text') throw new GraftError('BAD_INPUT', 'this model does not take text');
  if (pre.vectorizer === 'tfidf') return tfidfFeeds(texts, pre, dir);
  const tok = await tokenizerFor(dir);
  const batch = encodeTexts(tok, texts, { maxLength: pre.maxLength, padding: 'longest' });
  return textFeeds(batch, manifest.inputs);
}

/** Copies the tokenizer files that exist in `from` into an export directory `to`. */
export async function copyTokenizerFiles(from: string, to: string): Promise<string[]> {
  await mkdir(to, { recursive: true });
  const copied: string[] = [];
  for (const f of TOKENIZER_FILES) {
    try {
      await copyFile(join(from, f), join(to, f));
      copied.push(f);
    } catch (e) {
      if (f === 'tokenizer.json')
        throw new GraftError(
          'MODEL_NOT_FOUND',
          `no tokenizer.json in '${from}'`,
          { dir: from },
          { cause: e },
        );
    }
  }
  return copied;
}
