/**
 * Hugging Face tokenizers from a model directory (tokenizer.json + tokenizer_config.json), run by
 * @huggingface/tokenizers: graft writes no WordPiece/BPE code of its own.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { GraftError } from '../errors.js';
import { sha256 } from '../features/cache.js';
import { prefixCutFor, type CutVerdict } from './prefix-cut.js';

/** Files that make up a tokenizer in the Hugging Face layout (the first one is required). */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.txt',
] as const;

export interface TextTokenizer {
  /** The underlying @huggingface/tokenizers object. */
  readonly tokenizer: Tokenizer;
  readonly dir: string;
  /** sha256 over tokenizer.json and tokenizer_config.json: part of every feature cache key. */
  readonly hash: string;
  /** Largest token id + 1 (added tokens included): the embedding rows a model needs. */
  readonly vocabSize: number;
  /** `model_max_length` from tokenizer_config.json, when it is a sensible number. */
  readonly modelMaxLength: number | undefined;
  readonly lowercase: boolean | undefined;
  readonly padId: number;
  readonly config: Readonly<Record<string, unknown>>;
  /** Where a long text may be cut before tokenizing (see prefix-cut.ts); `cut` undefined: never. */
  readonly prefixCut: CutVerdict;
  /** Special tokens the post-processor puts before and after one text's tokens. */
  readonly specials: { readonly before: number; readonly after: number };
}

/** How many special tokens the post-processor adds before and after a single text (one probe). */
function specialsOf(tokenizer: Tokenizer, path: string): { before: number; after: number } {
  const content = tokenizer.encode('a', { add_special_tokens: false }).ids;
  const full = tokenizer.encode('a').ids;
  const extra = full.length - content.length;
  for (let before = 0; before <= extra; before++)
    if (content.every((id: number, i: number) => full[before + i] === id))
      return { before, after: extra - before };
  throw new GraftError('CORRUPT_MODEL', `${path}: the post-processor does not keep the text's tokens`, {
    path,
  });
}

async function readJson(path: string, required: boolean): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (!required) return undefined;
    throw new GraftError('MODEL_NOT_FOUND', `missing tokenizer file '${path}'`, { path }, { cause: e });
  }
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch (e) {
    throw new GraftError('CORRUPT_MODEL', `${path} is not a JSON object`, { path }, { cause: e });
  }
}

const tokenName = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string'
      ? (v as { content: string }).content
      : undefined;

/** Loads `dir/tokenizer.json` (required) and `dir/tokenizer_config.json` (optional). */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const jsonPath = join(dir, 'tokenizer.json');
  const json = (await readJson(jsonPath, true))!;
  const config = (await readJson(join(dir, 'tokenizer_config.json'), false)) ?? {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(json, config);
    tokenizer.encode('a');
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new GraftError(
      'CORRUPT_MODEL',
      `cannot load tokenizer ${jsonPath}: ${why}`,
      { path: jsonPath },
      {
        cause: e,
      },
    );
  }
  let maxId = -1;
  for (const id of tokenizer.get_vocab(true).values()) if (id > maxId) maxId = id;
  const mml = config['model_max_length'];
  const padName = tokenName(config['pad_token']) ?? '[PAD]';
  const lower = config['do_lower_case'];
  const normalizer = tokenizer.normalizer;
  return {
    tokenizer,
    dir,
    prefixCut: prefixCutFor(json, normalizer ? (t) => normalizer.normalize(t) : null),
    specials: specialsOf(tokenizer, jsonPath),
    hash: sha256(JSON.stringify(json) + '\n' + JSON.stringify(config)),
    vocabSize: maxId + 1,
    modelMaxLength: typeof mml === 'number' && mml > 0 && mml < 1e6 ? mml : undefined,
    lowercase: typeof lower === 'boolean' ? lower : undefined,
    padId: tokenizer.token_to_id(padName) ?? 0,
    config,
  };
}
