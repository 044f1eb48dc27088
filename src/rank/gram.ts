/**
 * Inner products of feature rows, the one expensive step behind both rank scores. Rows that are mostly zeros
 * (tf-idf) are multiplied through their non-zero entries.
 */

/** Row-major [rows × dim] features. */
export interface Rows {
  readonly data: Float32Array;
  readonly dim: number;
  readonly rows: number;
}

interface SparseRow {
  idx: Int32Array;
  val: Float64Array;
}

function sparseRows(m: Rows): SparseRow[] {
  return Array.from({ length: m.rows }, (_, r) => {
    const row = m.data.subarray(r * m.dim, (r + 1) * m.dim);
    const idx: number[] = [];
    row.forEach((v, c) => v !== 0 && idx.push(c));
    return { idx: Int32Array.from(idx), val: Float64Array.from(idx, (c) => row[c]!) };
  });
}

function density(m: Rows): number {
  let nz = 0;
  for (const v of m.data) if (v !== 0) nz++;
  return nz / Math.max(1, m.data.length);
}

/** G = F Fᵀ, [rows × rows], in float64. */
export function rowGram(m: Rows): Float64Array {
  const n = m.rows;
  const g = new Float64Array(n * n);
  if (density(m) < 0.2) {
    const sparse = sparseRows(m);
    const dense = new Float64Array(m.dim);
    for (let i = 0; i < n; i++) {
      const a = sparse[i]!;
      a.idx.forEach((c, k) => (dense[c] = a.val[k]!));
      for (let j = 0; j <= i; j++) {
        const b = sparse[j]!;
        let s = 0;
        for (let k = 0; k < b.idx.length; k++) s += dense[b.idx[k]!]! * b.val[k]!;
        g[i * n + j] = g[j * n + i] = s;
      }
      a.idx.forEach((c) => (dense[c] = 0));
    }
    return g;
  }
  const d = m.dim;
  const x = Float64Array.from(m.data);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let c = 0, a = i * d, b = j * d; c < d; c++) s += x[a + c]! * x[b + c]!;
      g[i * n + j] = g[j * n + i] = s;
    }
  }
  return g;
}

/** C = Fᵀ F, [dim × dim], in float64. */
export function columnGram(m: Rows): Float64Array {
  const d = m.dim;
  const c = new Float64Array(d * d);
  const row = new Float64Array(d);
  for (let r = 0; r < m.rows; r++) {
    for (let k = 0; k < d; k++) row[k] = m.data[r * d + k]!;
    for (let i = 0; i < d; i++) {
      const v = row[i]!;
      if (v === 0) continue;
      for (let j = 0; j <= i; j++) c[i * d + j]! += v * row[j]!;
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) c[j * d + i] = c[i * d + j]!;
  return c;
}
