/**
 * Where a long text may be cut so that tokenizing the part before the cut yields exactly the first tokens of
 * the whole text. Decided once per tokenizer from its tokenizer.json: each normalizer and pre-tokenizer is
 * checked to be local around a space (nothing before a space depends on what follows it), and the model either
 * works word by word or, when the pipeline keeps the text in one piece (SentencePiece's Metaspace), has no
 * token that reaches across the space's replacement. Anything not shown to be safe gets no cut: the whole text
 * is tokenized, as before.
 */

/** A cut sits just before one of `chars`, after a letter, digit or printable ASCII character. */
export interface PrefixCut {
  /** Characters a cut may sit on (the cut keeps the text before them). */
  readonly chars: string;
  /** What makes it safe, for logs and tests. */
  readonly basis: string;
}

export interface CutVerdict {
  readonly cut: PrefixCut | undefined;
  /** Why there is a cut, or why not. */
  readonly reason: string;
}

type Json = Record<string, unknown>;

interface State {
  /** The text is already split into words at every space (each later step works word by word). */
  split: boolean;
  /** What a space has become so far. */
  sep: string;
  /** Only spaces (not tabs or newlines) are known to separate. */
  spaceOnly: boolean;
}

class Unsafe extends Error {}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const WS = /\s/u;

/** Replace (normalizer or pre-tokenizer): safe when no match can reach across a space. */
function replace(cfg: Json, st: State): State {
  const pattern = isObj(cfg['pattern']) ? cfg['pattern'] : {};
  const content = str(cfg['content']) ?? '';
  const s = str(pattern['String']);
  const re = str(pattern['Regex']);
  if (s !== undefined) {
    if (s === st.sep) {
      if ([...content].length !== 1) throw new Unsafe(`Replace '${s}' → '${content}' joins or splits words`);
      return { ...st, sep: content, spaceOnly: true };
    }
    if ([...s].length === 1) return { ...st, spaceOnly: st.spaceOnly || WS.test(s) };
    if (WS.test(s) || s.includes(st.sep)) throw new Unsafe(`Replace pattern '${s}' spans a space`);
    return st;
  }
  if (re !== undefined && (re === ' {2,}' || re === ' +') && st.sep === ' ' && content === ' ')
    return { ...st, spaceOnly: true };
  throw new Unsafe(`Replace pattern ${JSON.stringify(pattern)}`);
}

function normalizer(cfg: unknown, st: State): State {
  if (cfg === null || cfg === undefined) return st;
  if (!isObj(cfg)) throw new Unsafe('normalizer is not an object');
  const type = str(cfg['type']);
  switch (type) {
    case 'Sequence': {
      const list = cfg['normalizers'];
      if (!Array.isArray(list)) throw new Unsafe('normalizer Sequence without a list');
      return list.reduce<State>((s, n) => normalizer(n, s), st);
    }
    case 'BertNormalizer':
    case 'Lowercase':
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD':
    case 'StripAccents':
    case 'Strip':
    case 'Prepend':
      return st;
    case 'Precompiled':
      // Maps tabs, newlines, U+2581 and other blanks to a space, then NFKC: all one character at a time.
      return st.sep === '\u2581' ? { ...st, sep: ' ' } : st;
    case 'Replace':
      return replace(cfg, st);
    default:
      throw new Unsafe(`normalizer ${type ?? '?'}`);
  }
}

function preTokenizer(cfg: unknown, st: State): State {
  if (cfg === null || cfg === undefined) return st;
  if (!isObj(cfg)) throw new Unsafe('pre_tokenizer is not an object');
  const type = str(cfg['type']);
  if (type === 'Sequence') {
    const list = cfg['pretokenizers'];
    if (!Array.isArray(list)) throw new Unsafe('pre_tokenizer Sequence without a list');
    return list.reduce<State>((s, n) => preTokenizer(n, s), st);
  }
  // Every pre-tokenizer works piece by piece: once words are apart, nothing joins them again.
  if (st.split) return st;
  switch (type) {
    case 'BertPreTokenizer':
    case 'Whitespace':
    case 'WhitespaceSplit':
      if (st.sep !== ' ') throw new Unsafe(`${type} after spaces became '${st.sep}'`);
      return { ...st, split: true };
    case 'ByteLevel':
      if (st.sep !== ' ') throw new Unsafe(`ByteLevel after spaces became '${st.sep}'`);
      // Its regex keeps a space with the word after it; without the regex the text stays whole.
      return cfg['use_regex'] === false ? { ...st, sep: '\u0120', spaceOnly: true } : { ...st, split: true };
    case 'Metaspace': {
      const rep = str(cfg['str_rep']) || str(cfg['replacement']) || '\u2581';
      if ([...rep].length !== 1) throw new Unsafe(`Metaspace replacement '${rep}'`);
      return st.sep === ' ' ? { ...st, sep: rep, spaceOnly: true } : st;
    }
    case 'Punctuation':
    case 'Digits':
      return st; // they only split further
    case 'Replace':
      return replace(cfg, st);
    default:
      throw new Unsafe(`pre_tokenizer ${type ?? '?'} on unsplit text`);
  }
}

/** With the text in one piece, no token (or merge) may hold the separator after its first character. */
function modelReach(model: Json, sep: string): void {
  const type = str(model['type']);
  if (type !== 'BPE' && type !== 'Unigram') throw new Unsafe(`${type ?? '?'} model on unsplit text`);
  if (type === 'BPE') {
    if (model['end_of_word_suffix'] || model['continuing_subword_suffix'] || model['ignore_merges'])
      throw new Unsafe('BPE with word suffixes or ignore_merges on unsplit text');
    const merges = Array.isArray(model['merges']) ? model['merges'] : [];
    for (const m of merges) {
      const joined = Array.isArray(m) ? m.join('') : typeof m === 'string' ? m.replace(' ', '') : '';
      if (joined.indexOf(sep, 1) > 0) throw new Unsafe(`merge '${joined}' reaches across '${sep}'`);
    }
  }
  const vocab = model['vocab'];
  const tokens = Array.isArray(vocab)
    ? vocab.map((v) => (Array.isArray(v) ? String(v[0]) : String(v)))
    : isObj(vocab)
      ? Object.keys(vocab)
      : [];
  for (const t of tokens) if (t.indexOf(sep, 1) > 0) throw new Unsafe(`token '${t}' reaches across '${sep}'`);
}

/**
 * The cut for a tokenizer.json, or why there is none. `normalize` is the
 * tokenizer's own normalizer, used to check added tokens as they are matched after normalization.
 */
export function prefixCutFor(json: Json, normalize: ((s: string) => string) | null): CutVerdict {
  try {
    const added = Array.isArray(json['added_tokens']) ? json['added_tokens'] : [];
    for (const a of added) {
      const content = isObj(a) ? str(a['content']) : undefined;
      if (content === undefined) continue;
      if (WS.test(content) || (normalize !== null && WS.test(normalize(content))))
        throw new Unsafe(`added token '${content}' holds whitespace`);
    }
    let st: State = { split: false, sep: ' ', spaceOnly: false };
    st = normalizer(json['normalizer'], st);
    st = preTokenizer(json['pre_tokenizer'], st);
    const model = json['model'];
    if (!isObj(model)) throw new Unsafe('no model');
    const type = str(model['type']);
    if (st.split) {
      if (type !== 'WordPiece' && type !== 'BPE' && type !== 'Unigram')
        throw new Unsafe(`model ${type ?? '?'}`);
      const chars = st.spaceOnly ? ' ' : ' \t\n\r';
      return { cut: { chars, basis: `words split at whitespace, ${type} word by word` }, reason: 'safe' };
    }
    modelReach(model, st.sep);
    return {
      cut: { chars: ' ', basis: `one piece, no ${type} token reaches across '${st.sep}'` },
      reason: 'safe',
    };
  } catch (e) {
    if (e instanceof Unsafe) return { cut: undefined, reason: e.message };
    throw e;
  }
}

/** A character after which a cut is allowed: nothing normalizes it into, or merges it with, a blank. */
const SOLID = /^[!-~\p{L}\p{N}]$/u;

/**
 * The first cut at or after `from` (an index into `text`), or `text.length` when there is none: the text
 * before it tokenizes to the first tokens of the whole text.
 */
export function findCut(text: string, from: number, cut: PrefixCut): number {
  for (let i = Math.max(1, from); i < text.length; i++) {
    if (cut.chars.includes(text[i]!) && SOLID.test(text[i - 1]!)) return i;
  }
  return text.length;
}
