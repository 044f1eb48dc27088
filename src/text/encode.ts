/** Texts → input_ids / attention_mask / token_type_ids: truncation to maxLength, dynamic padding. */
import { GraftError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { findCut } from './prefix-cut.js';
import type { TextTokenizer } from './tokenizer.js';

export interface EncodeOptions {
  /** Longest sequence, special tokens included; longer texts are truncated (their special tokens kept). */
  maxLength: number;
  /** 'longest': pad to the longest sequence in the batch; 'max_length': always pad to maxLength. */
  padding?: 'longest' | 'max_length';
}

export interface EncodedBatch {
  input_ids: Tensor<'int64'>;
  attention_mask: Tensor<'int64'>;
  token_type_ids: Tensor<'int64'>;
  /** Tokens per text (special tokens included, before padding). */
  lengths: number[];
  /** Indices of texts that were cut to maxLength. */
  truncated: number[];
}

export interface EncodedText {
  ids: number[];
  typeIds: number[];
  truncated: boolean;
}

/** Characters per token to guess the first cut with (e-mail headers and HTML tokenize at about 3). */
const FIRST_GUESS_CHARS_PER_TOKEN = 6;

/** The whole encoding of `text` with special tokens and token types, tokenized once. */
function encodeWhole(tok: TextTokenizer, text: string): { ids: number[]; typeIds: number[] } {
  const e = tok.tokenizer.encode(text, { return_token_type_ids: true });
  return { ids: e.ids, typeIds: e.token_type_ids ?? e.ids.map(() => 0) };
}

/** Keeps the first `keep` content tokens and the special tokens on both sides (like HF's truncation). */
function truncate(e: { ids: number[]; typeIds: number[] }, tok: TextTokenizer, keep: number): EncodedText {
  const { before, after } = tok.specials;
  const pick = (xs: number[]): number[] => [...xs.slice(0, before + keep), ...xs.slice(xs.length - after)];
  return { ids: pick(e.ids), typeIds: pick(e.typeIds), truncated: true };
}

/**
 * One text, with the tokenizer's own special tokens (post-processor template), the content cut to
 * maxLength (head kept). Empty and whitespace-only texts are valid: they encode to the special tokens alone
 * (`[CLS] [SEP]` for BERT). A long text is tokenized only as far as needed: a prefix ending at a safe cut
 * (prefix-cut.ts) is tokenized, and grown until it yields more tokens than are kept; the result is the same
 * as tokenizing the whole text and truncating.
 */
export function encodeText(tok: TextTokenizer, text: string, maxLength: number): EncodedText {
  return encodeTextGuessing(tok, text, maxLength, FIRST_GUESS_CHARS_PER_TOKEN);
}

/** encodeText with the first cut guessed at `charsPerToken` characters a token (tests try several). */
export function encodeTextGuessing(
  tok: TextTokenizer,
  text: string,
  maxLength: number,
  charsPerToken: number,
): EncodedText {
  const { before, after } = tok.specials;
  const keep = maxLength - before - after;
  const cut = tok.prefixCut.cut;
  if (cut !== undefined && keep >= 1) {
    let from = Math.ceil((keep + 2) * charsPerToken);
    for (;;) {
      const end = findCut(text, from, cut);
      if (end >= text.length) break;
      const e = encodeWhole(tok, text.slice(0, end));
      const n = e.ids.length - before - after;
      // All tokens but the prefix's last are the whole text's (the last may be an unknown the model fuses
      // with the next), so two more than kept prove the text is longer than maxLength.
      if (n >= keep + 2) return truncate(e, tok, keep);
      from = Math.ceil(end * Math.max(2, (1.25 * (keep + 2)) / Math.max(1, n)));
    }
  }
  const e = encodeWhole(tok, text);
  if (e.ids.length <= maxLength) return { ...e, truncated: false };
  if (keep < 1)
    throw new GraftError(
      'BAD_OPTION',
      `maxLength ${maxLength} leaves no room after ${before + after} special tokens`,
      { maxLength },
    );
  return truncate(e, tok, keep);
}

/** Encodes a batch into int64 tensors [batch, T], T = the longest (or maxLength), masks 0 on padding. */
export function encodeTexts(
  tok: TextTokenizer,
  texts: readonly string[],
  options: EncodeOptions,
): EncodedBatch {
  const { maxLength } = options;
  if (!Number.isInteger(maxLength) || maxLength < 1)
    throw new GraftError('BAD_OPTION', `maxLength must be a positive integer, got ${maxLength}`, {
      maxLength,
    });
  const encoded = texts.map((t, i) => {
    if (typeof t !== 'string') throw new GraftError('BAD_INPUT', `text ${i} is not a string`, { index: i });
    return encodeText(tok, t, maxLength);
  });
  return packEncoded(encoded, options.padding === 'max_length' ? maxLength : 0, tok.padId);
}

/** Pads already-encoded texts into one batch (at least `minLength` wide). */
export function packEncoded(encoded: readonly EncodedText[], minLength: number, padId: number): EncodedBatch {
  const n = encoded.length;
  const width = Math.max(minLength, 1, ...encoded.map((e) => e.ids.length));
  const ids = new BigInt64Array(n * width).fill(BigInt(padId));
  const mask = new BigInt64Array(n * width);
  const types = new BigInt64Array(n * width);
  encoded.forEach((e, i) => {
    for (let j = 0; j < e.ids.length; j++) {
      ids[i * width + j] = BigInt(e.ids[j]!);
      mask[i * width + j] = 1n;
      types[i * width + j] = BigInt(e.typeIds[j] ?? 0);
    }
  });
  const shape = [n, width];
  return {
    input_ids: { dtype: 'int64', shape, data: ids },
    attention_mask: { dtype: 'int64', shape: [...shape], data: mask },
    token_type_ids: { dtype: 'int64', shape: [...shape], data: types },
    lengths: encoded.map((e) => e.ids.length),
    truncated: encoded.flatMap((e, i) => (e.truncated ? [i] : [])),
  };
}
