/** Text preprocessing of a Hugging Face repo, from tokenizer_config.json, config.json and sentence-transformers files. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GraftError } from '../errors.js';
import type { TextPreprocess } from '../models/spec.js';

type Json = Record<string, unknown>;

/** A JSON object file; undefined when missing, CORRUPT_MODEL when not a JSON object. */
export async function readJson(path: string): Promise<Json | undefined> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Json;
  } catch (e) {
    throw new GraftError('CORRUPT_MODEL', `${path} is not valid JSON`, { path }, { cause: e });
  }
  throw new GraftError('CORRUPT_MODEL', `${path} is not a JSON object`, { path });
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * maxLength: the smallest of model_max_length (ignoring HF's 1e30 "unset"), max_position_embeddings and 512.
 * Pooling and normalisation: sentence-transformers' 1_Pooling/config.json and modules.json, else the hints.
 */
export async function textPreprocessFrom(
  dir: string,
  hints: { pooling?: 'cls' | 'mean'; normalize?: boolean } = {},
): Promise<TextPreprocess> {
  const tok = (await readJson(join(dir, 'tokenizer_config.json'))) ?? {};
  const config = (await readJson(join(dir, 'config.json'))) ?? {};
  const st = await readJson(join(dir, '1_Pooling', 'config.json'));
  const modules = await readFile(join(dir, 'modules.json'), 'utf8').catch(() => '');
  const mml = num(tok['model_max_length']);
  const positions = num(config['max_position_embeddings']);
  const candidates = [mml !== undefined && mml < 1e6 ? mml : undefined, positions].filter(
    (x): x is number => x !== undefined,
  );
  const maxLength = Math.min(512, ...candidates);
  const stPooling = st
    ? st['pooling_mode_mean_tokens'] === true
      ? 'mean'
      : st['pooling_mode_cls_token'] === true
        ? 'cls'
        : undefined
    : undefined;
  const lower = tok['do_lower_case'];
  return {
    kind: 'text',
    maxLength,
    pooling: stPooling ?? hints.pooling ?? 'cls',
    normalize: modules.includes('Normalize') || (hints.normalize ?? false),
    ...(typeof lower === 'boolean' ? { lowercase: lower } : {}),
  };
}
