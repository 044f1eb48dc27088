/** Predicting with an exported tf-idf model: texts → term counts over the directory's tfidf.json. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../../errors.js';
import type { TfidfPreprocess } from '../../models/spec.js';
import type { Tensor } from '../../tensor.js';
import { TFIDF_INPUT } from './graph.js';
import { TfidfVectorizer } from './vectorizer.js';

const loaded = new Map<string, Promise<TfidfVectorizer>>();

async function readVectorizer(path: string): Promise<TfidfVectorizer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new GraftError('MODEL_NOT_FOUND', `missing tf-idf vocabulary '${path}'`, { path }, { cause: e });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new GraftError('CORRUPT_MODEL', `${path} is not valid JSON`, { path }, { cause: e });
  }
  return TfidfVectorizer.fromJSON(value, path);
}

/** The vectoriser of a model directory (read once per process). */
export function vectorizerFor(dir: string, pre: TfidfPreprocess): Promise<TfidfVectorizer> {
  const path = join(dir, pre.file);
  let v = loaded.get(path);
  if (!v) {
    v = readVectorizer(path);
    loaded.set(path, v);
    v.catch(() => loaded.delete(path));
  }
  return v;
}

/** The feeds of an exported tf-idf model for `texts`. */
export async function tfidfFeeds(
  texts: readonly string[],
  pre: TfidfPreprocess,
  dir: string,
): Promise<Record<string, Tensor>> {
  const vec = await vectorizerFor(dir, pre);
  return {
    [TFIDF_INPUT]: { dtype: 'float32', shape: [texts.length, vec.size], data: vec.counts(texts) },
  };
}
