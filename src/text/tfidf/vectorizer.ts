/**
 * A tf-idf vectoriser fitted on the training texts only: the no-transfer text baseline. Its arithmetic follows
 * scikit-learn's TfidfVectorizer (checked against it in test/text/tfidf.test.ts): smooth idf
 * ln((1 + n) / (1 + df)) + 1, sublinear tf 1 + ln(tf), rows L2-normalised; the vocabulary keeps terms in at
 * least `minDf` documents, capped at the `maxFeatures` most frequent in the corpus, in alphabetical order.
 *
 * The vectoriser itself only counts terms (`counts`); the weighting runs inside the model graph
 * (./graph.ts), so an exported model.onnx takes term counts and the vocabulary file (tfidf.json) is all a
 * caller needs besides it. `transform` is the same weighting in TypeScript, for tests and library use.
 */
import { GraftError } from '../../errors.js';
import { analyze, type AnalyzerOptions } from './analyze.js';

export interface TfidfOptions extends AnalyzerOptions {
  /** Keep terms that occur in at least this many training documents. */
  readonly minDf: number;
  /** Keep at most this many terms, the most frequent over the training corpus. */
  readonly maxFeatures: number;
  /** tf → 1 + ln(tf). */
  readonly sublinearTf: boolean;
  /** idf = ln((1 + n) / (1 + df)) + 1 (as if one document held every term); otherwise ln(n / df) + 1. */
  readonly smoothIdf: boolean;
  readonly norm: 'l2' | 'none';
}

export const TFIDF_DEFAULTS: TfidfOptions = {
  lowercase: true,
  ngramRange: [1, 2],
  minDf: 2,
  maxFeatures: 20_000,
  sublinearTf: true,
  smoothIdf: true,
  norm: 'l2',
};

/** The vocabulary file of an exported tf-idf model (tfidf.json): what a caller needs to count terms. */
export interface TfidfFile {
  readonly format: 'graft-tfidf';
  readonly version: 1;
  readonly options: TfidfOptions;
  /** Terms in column order. */
  readonly vocabulary: readonly string[];
  /** Inverse document frequency per column (also a constant of model.onnx). */
  readonly idf: readonly number[];
}

export const TFIDF_FILE = 'tfidf.json';

export class TfidfVectorizer {
  private readonly index: ReadonlyMap<string, number>;

  constructor(
    readonly vocabulary: readonly string[],
    readonly idf: Float32Array,
    readonly options: TfidfOptions,
  ) {
    this.index = new Map(vocabulary.map((t, i) => [t, i]));
  }

  get size(): number {
    return this.vocabulary.length;
  }

  /** Term counts, row-major [texts × vocabulary], into `out` at row offset 0 (allocated when omitted). */
  counts(texts: readonly string[], out = new Float32Array(texts.length * this.size)): Float32Array {
    const v = this.size;
    out.fill(0, 0, texts.length * v);
    texts.forEach((text, row) => {
      for (const term of analyze(text, this.options)) {
        const col = this.index.get(term);
        if (col !== undefined) out[row * v + col]! += 1;
      }
    });
    return out;
  }

  /** tf-idf rows [texts × vocabulary], computed in TypeScript (the exported graph computes the same). */
  transform(texts: readonly string[]): Float32Array {
    const v = this.size;
    const x = this.counts(texts);
    const row = new Float64Array(v);
    for (let r = 0; r < texts.length; r++) {
      let sq = 0;
      for (let c = 0; c < v; c++) {
        const tf = x[r * v + c]!;
        const w = (this.options.sublinearTf && tf > 0 ? 1 + Math.log(tf) : tf) * this.idf[c]!;
        row[c] = w;
        sq += w * w;
      }
      const scale = this.options.norm === 'l2' && sq > 0 ? 1 / Math.sqrt(sq) : 1;
      for (let c = 0; c < v; c++) x[r * v + c] = row[c]! * scale;
    }
    return x;
  }

  toJSON(): TfidfFile {
    return {
      format: 'graft-tfidf',
      version: 1,
      options: this.options,
      vocabulary: this.vocabulary,
      idf: Array.from(this.idf),
    };
  }

  static fromJSON(value: unknown, where = TFIDF_FILE): TfidfVectorizer {
    const f = value as Partial<TfidfFile> | null;
    if (
      f?.format !== 'graft-tfidf' ||
      !Array.isArray(f.vocabulary) ||
      !Array.isArray(f.idf) ||
      f.idf.length !== f.vocabulary.length ||
      typeof f.options !== 'object'
    )
      throw new GraftError('CORRUPT_MODEL', `${where} is not a graft tf-idf vocabulary`, { path: where });
    return new TfidfVectorizer(f.vocabulary, Float32Array.from(f.idf), { ...TFIDF_DEFAULTS, ...f.options });
  }
}

/** Fits the vocabulary and idf on `texts` (the training split only). */
export function fitTfidf(texts: readonly string[], options: Partial<TfidfOptions> = {}): TfidfVectorizer {
  const o: TfidfOptions = { ...TFIDF_DEFAULTS, ...options };
  if (!(o.minDf >= 1) || !(o.maxFeatures >= 1) || o.ngramRange[0] < 1 || o.ngramRange[1] < o.ngramRange[0])
    throw new GraftError('BAD_OPTION', 'tf-idf needs minDf ≥ 1, maxFeatures ≥ 1 and 1 ≤ ngram min ≤ max', {
      options: o,
    });
  const df = new Map<string, number>();
  const total = new Map<string, number>();
  for (const text of texts) {
    const terms = analyze(text, o);
    for (const t of terms) total.set(t, (total.get(t) ?? 0) + 1);
    for (const t of new Set(terms)) df.set(t, (df.get(t) ?? 0) + 1);
  }
  let kept = [...df.keys()].filter((t) => df.get(t)! >= o.minDf);
  if (kept.length === 0)
    throw new GraftError(
      'BAD_INPUT',
      `no term occurs in ${o.minDf} or more of the ${texts.length} training texts: tf-idf has no vocabulary`,
      { texts: texts.length, minDf: o.minDf },
    );
  if (kept.length > o.maxFeatures) {
    const byCount = (a: string, b: string) => total.get(b)! - total.get(a)! || (a < b ? -1 : a > b ? 1 : 0);
    kept = kept.sort(byCount).slice(0, o.maxFeatures);
  }
  kept.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = texts.length;
  const idf = Float32Array.from(kept, (t) => {
    const d = df.get(t)!;
    return o.smoothIdf ? Math.log((1 + n) / (1 + d)) + 1 : Math.log(n / d) + 1;
  });
  return new TfidfVectorizer(kept, idf, o);
}
