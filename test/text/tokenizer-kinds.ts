/**
 * tokenizer.json files of each kind @huggingface/tokenizers runs (WordPiece, byte-level BPE, SentencePiece-style
 * Unigram and BPE, and pipelines no cut is safe for), with vocabularies learnt from a sample of texts so that
 * real e-mails tokenize into real sub-words. Written into a directory each, for loadTokenizer.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

type Json = Record<string, unknown>;

const SP = '\u2581';

/** GPT-2's reversible byte → printable character table (printable Latin-1 bytes stand for themselves). */
export function byteChars(): string[] {
  const keep = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
  const out: string[] = [];
  let extra = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCharCode(keep(b) ? b : 256 + extra++));
  return out;
}

const GPT2_WORDS = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

function countWords(words: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/** Greedy BPE training over word counts: the `n` most frequent adjacent pairs, merged one at a time. */
function learnMerges(counts: Map<string, number>, n: number): [string, string][] {
  const words = [...counts].map(([w, c]) => ({ syms: [...w], c }));
  const merges: [string, string][] = [];
  for (let k = 0; k < n; k++) {
    const pairs = new Map<string, number>();
    for (const { syms, c } of words)
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = syms[i] + '\u0000' + syms[i + 1];
        pairs.set(key, (pairs.get(key) ?? 0) + c);
      }
    let best = '';
    let bestCount = 1;
    for (const [key, c] of pairs)
      if (c > bestCount || (c === bestCount && key < best)) [best, bestCount] = [key, c];
    if (!best) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++)
        if (w.syms[i] === a && w.syms[i + 1] === b) (out.push(a + b), i++);
        else out.push(w.syms[i]!);
      w.syms = out;
    }
  }
  return merges;
}

const added = (tokens: [string, number][]): Json[] =>
  tokens.map(([content, id]) => ({
    id,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

function template(single: string[], ids: Record<string, number>): Json {
  return {
    type: 'TemplateProcessing',
    single: single.map((s) =>
      s === '$A' ? { Sequence: { id: 'A', type_id: 0 } } : { SpecialToken: { id: s, type_id: 0 } },
    ),
    pair: [],
    special_tokens: Object.fromEntries(
      Object.entries(ids).map(([k, v]) => [k, { id: k, ids: [v], tokens: [k] }]),
    ),
  };
}

/** RoBERTa-style: ByteLevel pre-tokenizer (GPT-2 regex), BPE over bytes, `<s> … </s>`. */
export function byteLevelBpe(sample: readonly string[], merges = 400, useRegex = true): Json {
  const bytes = byteChars();
  const enc = new TextEncoder();
  const toBytes = (s: string): string => Array.from(enc.encode(s), (b) => bytes[b]!).join('');
  const counts = countWords(sample.flatMap((t) => (t.match(GPT2_WORDS) ?? []).map(toBytes)));
  const learnt = learnMerges(counts, merges);
  const specials: [string, number][] = [
    ['<s>', 0],
    ['<pad>', 1],
    ['</s>', 2],
    ['<unk>', 3],
  ];
  const vocab: Record<string, number> = Object.fromEntries(specials);
  for (const t of [...bytes, ...learnt.map(([a, b]) => a + b)]) vocab[t] ??= Object.keys(vocab).length;
  const pre: Json = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex };
  return {
    version: '1.0',
    added_tokens: added(specials),
    normalizer: null,
    pre_tokenizer: useRegex
      ? pre
      : {
          type: 'Sequence',
          pretokenizers: [
            // A GPT-4-style split: punctuation keeps the newlines after it, newline runs stay whole.
            {
              type: 'Split',
              pattern: {
                Regex:
                  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
              },
              behavior: 'Isolated',
              invert: false,
            },
            pre,
          ],
        },
    post_processor: {
      type: 'RobertaProcessing',
      sep: ['</s>', 2],
      cls: ['<s>', 0],
      trim_offsets: true,
      add_prefix_space: false,
    },
    decoder: { type: 'ByteLevel' },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: learnt.map(([a, b]) => `${a} ${b}`),
    },
  };
}

const words = (sample: readonly string[]): string[] =>
  sample.flatMap((t) => t.split(/ +/).filter((w) => w.length > 0));

/**
 * T5-style: Precompiled-like cleanup + collapsing runs of spaces, Metaspace (one piece per section in
 * @huggingface/tokenizers), a Unigram vocabulary of `▁word`s, suffixes and single characters, `$A </s>`.
 */
export function unigramMetaspace(sample: readonly string[], extraPieces: string[] = []): Json {
  const counts = countWords(words(sample).map((w) => SP + w.replace(/\s/g, '')));
  const chars = new Map<string, number>();
  const suffixes = new Map<string, number>();
  for (const [w, c] of counts) {
    for (const ch of w) chars.set(ch, (chars.get(ch) ?? 0) + c);
    for (let k = 2; k <= 4 && k < w.length; k++)
      suffixes.set(w.slice(-k), (suffixes.get(w.slice(-k)) ?? 0) + c);
  }
  const top = (m: Map<string, number>, n: number): [string, number][] =>
    [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const pieces = new Map<string, number>();
  for (const [p, c] of [...top(counts, 1500), ...top(suffixes, 500), ...top(chars, 400)])
    if (p.length > 0 && !pieces.has(p)) pieces.set(p, Math.log(c / total) - (p.length === 1 ? 2 : 0));
  for (const p of extraPieces) pieces.set(p, -1);
  pieces.delete(SP);
  const vocab: [string, number][] = [['<pad>', 0], ['</s>', 0], ['<unk>', 0], [SP, -3], ...pieces];
  return {
    version: '1.0',
    added_tokens: added([
      ['<pad>', 0],
      ['</s>', 1],
      ['<unk>', 2],
    ]),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Precompiled', precompiled_charsmap: null },
        { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' },
      ],
    },
    pre_tokenizer: { type: 'Metaspace', replacement: SP, prepend_scheme: 'always', split: true },
    post_processor: template(['$A', '</s>'], { '</s>': 1 }),
    decoder: { type: 'Metaspace', replacement: SP, prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab, byte_fallback: false },
  };
}

/** Llama-style: spaces become `▁` in the normalizer (plus one in front), BPE with byte fallback, `<s> $A`. */
export function metaspaceBpe(sample: readonly string[], merges = 400, extraTokens: string[] = []): Json {
  const counts = countWords(words(sample).map((w) => SP + w));
  const learnt = learnMerges(counts, merges);
  const specials: [string, number][] = [
    ['<unk>', 0],
    ['<s>', 1],
    ['</s>', 2],
  ];
  const vocab: Record<string, number> = Object.fromEntries(specials);
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + b;
  const chars = new Set<string>([SP]);
  for (const w of counts.keys()) for (const ch of w) chars.add(ch);
  for (const t of [...[...chars].sort().slice(0, 300), ...learnt.map(([a, b]) => a + b), ...extraTokens])
    vocab[t] ??= Object.keys(vocab).length;
  return {
    version: '1.0',
    added_tokens: added(specials),
    normalizer: {
      type: 'Sequence',
      normalizers: [
        { type: 'Prepend', prepend: SP },
        { type: 'Replace', pattern: { String: ' ' }, content: SP },
      ],
    },
    pre_tokenizer: null,
    post_processor: template(['<s>', '$A'], { '<s>': 1 }),
    decoder: null,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: '<unk>',
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      ignore_merges: false,
      vocab,
      merges: learnt.map(([a, b]) => [a, b]),
    },
  };
}

/**
 * WordPiece with a vocabulary of the sample's frequent words, `##` pieces and characters, under a given
 * normalizer and pre-tokenizer (BERT's by default), `[CLS] $A [SEP]`.
 */
export function wordPiece(
  sample: readonly string[],
  normalizer: Json | null = {
    type: 'BertNormalizer',
    clean_text: true,
    handle_chinese_chars: true,
    strip_accents: null,
    lowercase: true,
  },
  preTokenizer: Json | null = { type: 'BertPreTokenizer' },
): Json {
  const counts = countWords(
    sample.flatMap((t) => t.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []),
  );
  const specials: [string, number][] = [
    ['[PAD]', 0],
    ['[UNK]', 1],
    ['[CLS]', 2],
    ['[SEP]', 3],
    ['[MASK]', 4],
  ];
  const vocab: Record<string, number> = Object.fromEntries(specials);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const add = (t: string): void => void (vocab[t] ??= Object.keys(vocab).length);
  for (const [w] of ranked) for (const ch of w) (add(ch), add('##' + ch));
  for (const [w] of ranked.slice(0, 2000)) add(w);
  for (const [w] of ranked.slice(0, 600)) if (w.length > 3) (add('##' + w.slice(-3)), add(w.slice(0, 3)));
  return {
    version: '1.0',
    added_tokens: added(specials),
    normalizer,
    pre_tokenizer: preTokenizer,
    post_processor: template(['[CLS]', '$A', '[SEP]'], { '[CLS]': 2, '[SEP]': 3 }),
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** Writes `json` as dir/tokenizer.json (with a minimal tokenizer_config.json) and returns dir. */
export async function writeTokenizer(dir: string, json: Json, config: Json = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify({ model_max_length: 512, ...config }));
  return dir;
}
