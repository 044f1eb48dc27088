/**
 * The tf-idf vectoriser's analyser: lowercase, split into words, add n-grams. Follows scikit-learn's
 * CountVectorizer 'word' analyser: tokens are runs of two or more word characters (letters, digits, '_'; its
 * `(?u)\b\w\w+\b`), and n-grams join consecutive tokens with one space.
 */

export interface AnalyzerOptions {
  readonly lowercase: boolean;
  /** Smallest and largest n of the word n-grams (1, 2: unigrams and bigrams). */
  readonly ngramRange: readonly [number, number];
}

const WORD = /[\p{L}\p{N}_]{2,}/gu;

/** The terms of one text, in order (n-grams of the same start grouped by n, as scikit-learn emits them). */
export function analyze(text: string, options: AnalyzerOptions): string[] {
  const source = options.lowercase ? text.toLowerCase() : text;
  const tokens = source.match(WORD) ?? [];
  const [lo, hi] = options.ngramRange;
  if (lo === 1 && hi === 1) return tokens;
  const terms: string[] = lo === 1 ? [...tokens] : [];
  for (let n = Math.max(2, lo); n <= hi; n++) {
    for (let i = 0; i + n <= tokens.length; i++) terms.push(tokens.slice(i, i + n).join(' '));
  }
  return terms;
}
