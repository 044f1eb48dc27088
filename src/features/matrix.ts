/** In-memory feature matrices: row selection, standardisation statistics, and a shuffling batch source. */
import { GraftError } from '../errors.js';
import { deriveSeed, mulberry32, shuffleInPlace } from '../data/random.js';
import type { Standardizer } from '../heads/dense.js';
import type { FeatureSet } from './extract.js';
import type { Batch, DataSource } from '../train/types.js';
import { addonThreads, optimAddon } from '../train/optim-addon.js';

export interface FeatureMatrix {
  /** Row-major [rows × dim]. */
  data: Float32Array;
  dim: number;
  labels: Int32Array;
}

export function rowsOf(m: FeatureMatrix): number {
  return m.labels.length;
}

export function selectRows(m: FeatureMatrix, rows: readonly number[]): FeatureMatrix {
  const data = new Float32Array(rows.length * m.dim);
  rows.forEach((r, i) => data.set(m.data.subarray(r * m.dim, (r + 1) * m.dim), i * m.dim));
  return { data, dim: m.dim, labels: Int32Array.from(rows, (r) => m.labels[r]!) };
}

/** The columns of `parts` side by side, row for row (the parts hold the same examples in the same order). */
export function concatColumns(parts: readonly FeatureMatrix[]): FeatureMatrix {
  const first = parts[0];
  if (!first) throw new GraftError('BAD_OPTION', 'nothing to concatenate');
  if (parts.length === 1) return first;
  const n = rowsOf(first);
  if (parts.some((p) => rowsOf(p) !== n))
    throw new GraftError('SHAPE_MISMATCH', 'concatenated features must have the same rows');
  const dim = parts.reduce((sum, p) => sum + p.dim, 0);
  const data = new Float32Array(n * dim);
  for (let r = 0; r < n; r++) {
    let offset = r * dim;
    for (const p of parts) {
      data.set(p.data.subarray(r * p.dim, (r + 1) * p.dim), offset);
      offset += p.dim;
    }
  }
  return { data, dim, labels: first.labels };
}

/** The rows of one extracted tensor whose example ids are in `ids`, in extraction order. */
export function matrixForIds(
  set: Pick<FeatureSet, 'ids' | 'dims' | 'matrices' | 'labels'>,
  ids: ReadonlySet<string>,
  tensorIndex = 0,
): FeatureMatrix {
  const all = { data: set.matrices[tensorIndex]!, dim: set.dims[tensorIndex]!, labels: set.labels };
  return selectRows(
    all,
    set.ids.flatMap((id, i) => (ids.has(id) ? [i] : [])),
  );
}

/**
 * Per-column mean and standard deviation; constant columns get std 1 (as scikit-learn's StandardScaler). One pass
 * over the rows: sums of each column's offsets from its first value, in float64 (the shifted-data form, which
 * keeps the variance exact to float64 rounding when a column's values sit far from zero).
 */
export function fitStandardizer(m: FeatureMatrix): Standardizer {
  const n = rowsOf(m);
  const { data, dim } = m;
  const shift = new Float64Array(dim);
  if (n > 0) for (let c = 0; c < dim; c++) shift[c] = data[c]!;
  const { sum, sq } = shiftedColumnSums(data.subarray(0, n * dim), dim, shift);
  const rows = Math.max(1, n);
  const mean = Float32Array.from(shift, (k, c) => k + sum[c]! / rows);
  const std = Float32Array.from(sq, (s, c) => {
    const sd = Math.sqrt(Math.max(0, s - (sum[c]! * sum[c]!) / rows) / rows);
    return sd < 1e-7 ? 1 : sd;
  });
  return { mean, std };
}

/**
 * Per column c: Σ_rows (x[r, c] − shift[c]) and Σ_rows (x[r, c] − shift[c])² in float64, rows in order; the
 * optimizer addon's pass (columns split among threads, the same operations in the same order) where it is built.
 */
function shiftedColumnSums(
  data: Float32Array,
  dim: number,
  shift: Float64Array,
): { sum: Float64Array; sq: Float64Array } {
  const addon = optimAddon();
  if (addon && data.length > 0) {
    const both = addon.shiftedColumnSums(data, dim, addonThreads());
    return { sum: both.subarray(0, dim), sq: both.subarray(dim) };
  }
  const sum = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let o = 0; o < data.length;) {
    for (let c = 0; c < dim; c++, o++) {
      const d = data[o]! - shift[c]!;
      sum[c]! += d;
      sq[c]! += d * d;
    }
  }
  return { sum, sq };
}

/** Mini-batches of a feature matrix, reshuffled each epoch from (seed, epoch) so a resumed run sees the same order. */
export class MatrixSource implements DataSource {
  constructor(
    private readonly m: FeatureMatrix,
    private readonly seed: number,
    private readonly inputName = 'features',
  ) {}

  get size(): number {
    return rowsOf(this.m);
  }

  async *batches(batchSize: number, epoch: number, shuffle: boolean): AsyncIterable<Batch> {
    const order = Array.from({ length: this.size }, (_, i) => i);
    if (shuffle) shuffleInPlace(order, mulberry32(deriveSeed(this.seed, 'epoch', epoch)));
    for (let start = 0; start < order.length; start += batchSize) {
      const part = selectRows(this.m, order.slice(start, start + batchSize));
      yield {
        inputs: {
          [this.inputName]: { dtype: 'float32', shape: [part.labels.length, this.m.dim], data: part.data },
        },
        labels: part.labels,
      };
    }
  }
}
