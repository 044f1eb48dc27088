/** A DataSource over tokenised texts: seeded shuffle per epoch, dynamic padding to each batch's longest text. */
import { GraftError } from '../../errors.js';
import { deriveSeed, permutation, Rng } from '../../train/random.js';
import type { Tensor } from '../../tensor.js';
import type { Batch, DataSource } from '../../train/types.js';
import { encodeText, packEncoded, type EncodedText } from '../encode.js';
import { textFeeds } from '../extract.js';
import type { TextTokenizer } from '../tokenizer.js';

/** Rows `idx` of a row-major float tensor. */
function rowsOf(t: Tensor, idx: readonly number[]): Tensor {
  const width = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const src = t.data as Float32Array;
  const data = new Float32Array(idx.length * width);
  idx.forEach((r, i) => data.set(src.subarray(r * width, (r + 1) * width), i * width));
  return { dtype: 'float32', shape: [idx.length, ...t.shape.slice(1)], data };
}

export class TextDataSource implements DataSource {
  private constructor(
    private readonly encoded: readonly EncodedText[],
    private readonly labels: Int32Array,
    private readonly padId: number,
    private readonly inputs: readonly string[],
    private readonly seed: number,
    /** Indices of texts that were truncated to maxLength. */
    readonly truncated: readonly number[],
    /** Per-text rows added to every batch under their names (e.g. a teacher's logits), [n, width] each. */
    private readonly columns: Readonly<Record<string, Tensor>> = {},
  ) {}

  /** Tokenises every text once (truncating to maxLength); `inputs` are the encoder inputs to fill. */
  static fromTexts(
    tokenizer: TextTokenizer,
    texts: readonly string[],
    labels: ArrayLike<number>,
    o: {
      maxLength: number;
      inputs: readonly string[];
      seed?: number;
      columns?: Readonly<Record<string, Tensor>>;
    },
  ): TextDataSource {
    if (texts.length !== labels.length)
      throw new GraftError('SHAPE_MISMATCH', `${texts.length} texts but ${labels.length} labels`);
    for (const [name, t] of Object.entries(o.columns ?? {}))
      if (t.shape[0] !== texts.length)
        throw new GraftError('SHAPE_MISMATCH', `${texts.length} texts but ${t.shape[0]} rows of '${name}'`);
    const encoded = texts.map((t) => encodeText(tokenizer, t, o.maxLength));
    const truncated = encoded.flatMap((e, i) => (e.truncated ? [i] : []));
    return new TextDataSource(
      encoded,
      Int32Array.from(labels),
      tokenizer.padId,
      o.inputs,
      o.seed ?? 0,
      truncated,
      o.columns,
    );
  }

  /** The same tokenised texts drawn in the order of another seed (nothing is tokenised again). */
  withSeed(seed: number): TextDataSource {
    return new TextDataSource(
      this.encoded,
      this.labels,
      this.padId,
      this.inputs,
      seed,
      this.truncated,
      this.columns,
    );
  }

  get size(): number {
    return this.encoded.length;
  }

  /** One batch of the given rows, padded to its longest text. */
  batchOf(rows: ArrayLike<number>): Batch {
    const idx = Array.from(rows);
    const packed = packEncoded(
      idx.map((i) => this.encoded[i]!),
      0,
      this.padId,
    );
    const inputs = textFeeds(packed, this.inputs);
    for (const [name, t] of Object.entries(this.columns)) inputs[name] = rowsOf(t, idx);
    return { inputs, labels: Int32Array.from(idx, (i) => this.labels[i]!) };
  }

  async *batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch> {
    if (!(batchSize >= 1)) throw new GraftError('BAD_OPTION', `batch size must be ≥ 1, got ${batchSize}`);
    const n = this.size;
    const order = shuffle
      ? permutation(n, new Rng(deriveSeed(this.seed, epoch)))
      : Int32Array.from({ length: n }, (_, i) => i);
    for (let s = 0; s < n; s += batchSize) yield this.batchOf(order.subarray(s, Math.min(n, s + batchSize)));
  }
}
