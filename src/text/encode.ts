/** Texts → input_ids / attention_mask / token_type_ids: truncation to maxLength, dynamic padding. */
import { GraftError } from '../errors.js';
import type { Tensor } from '../tensor.js';
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

/**
 * One text, with the tokenizer's own special tokens (post-processor template). Empty and whitespace-only texts
 * are valid: they encode to the special tokens alone (`[CLS] [SEP]` for BERT).
 */
export function encodeText(tok: TextTokenizer, text: string, maxLength: number): EncodedText {
  const full = tok.tokenizer.encode(text, { return_token_type_ids: true });
  const types = full.token_type_ids ?? full.ids.map(() => 0);
  if (full.ids.length <= maxLength) return { ids: full.ids, typeIds: types, truncated: false };
  // Cut the content, keep the template's special tokens on both sides (like HF's truncation).
  const content = tok.tokenizer.encode(text, { add_special_tokens: false }).ids;
  const specials = full.ids.length - content.length;
  const keep = maxLength - specials;
  if (keep < 1)
    throw new GraftError(
      'BAD_OPTION',
      `maxLength ${maxLength} leaves no room after ${specials} special tokens`,
      {
        maxLength,
      },
    );
  let p = 0;
  while (p < specials && full.ids[p] !== content[0]) p++;
  const tail = p + content.length;
  const pick = (xs: number[]): number[] => [...xs.slice(0, p + keep), ...xs.slice(tail)];
  return { ids: pick(full.ids), typeIds: pick(types), truncated: true };
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
