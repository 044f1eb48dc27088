/**
 * Training matrices with feature-level augmentation: besides each training image's features, the features of K
 * augmented views of it (features/views.ts), used either as K extra training rows per image (`rows`) or averaged
 * with the image's own features into one row (`mean`). Only training rows are ever augmented; the views of an
 * image always go wherever the image goes (a cross-validation fold never trains on a view of an image it scores).
 */
import { GraftError } from '../errors.js';
import type { FeatureSet } from './extract.js';
import { rowsOf, selectRows, type FeatureMatrix } from './matrix.js';

export type ViewUse = 'rows' | 'mean';
export const VIEW_USES: readonly ViewUse[] = ['rows', 'mean'];

/** The views of a training matrix: `matrices[v]` row r is view v+1 of the image in row r of the base matrix. */
export interface MatrixViews {
  matrices: readonly FeatureMatrix[];
  use: ViewUse;
}

/**
 * The matrix a head is fitted on: the base rows `rows` (default: all) with their views, as extra rows (base rows
 * first, then view 1 of the same images, …) or averaged per image.
 */
export function withViews(
  base: FeatureMatrix,
  views: MatrixViews | undefined,
  rows?: readonly number[],
): FeatureMatrix {
  const picked = rows ?? Array.from({ length: rowsOf(base) }, (_, i) => i);
  const own = selectRows(base, picked);
  if (!views || views.matrices.length === 0) return own;
  for (const m of views.matrices)
    if (m.dim !== base.dim || rowsOf(m) !== rowsOf(base))
      throw new GraftError('BAD_INPUT', 'a view matrix does not line up with its training matrix');
  const parts = [own, ...views.matrices.map((m) => selectRows(m, picked))];
  if (views.use === 'rows') {
    const data = new Float32Array(parts.length * own.data.length);
    parts.forEach((p, i) => data.set(p.data, i * own.data.length));
    const labels = new Int32Array(parts.length * own.labels.length);
    parts.forEach((p, i) => labels.set(p.labels, i * own.labels.length));
    return { data, dim: base.dim, labels };
  }
  const data = new Float32Array(own.data.length);
  for (const p of parts) for (let i = 0; i < data.length; i++) data[i]! += p.data[i]!;
  for (let i = 0; i < data.length; i++) data[i]! /= parts.length;
  return { data, dim: base.dim, labels: own.labels };
}

/**
 * One view's rows for the examples `ids`, in that order (the base matrix's order). Every example must have its
 * view: an image that decoded once decodes again, so a missing one is an error, not a skipped row.
 */
export function viewRows(view: FeatureSet, ids: readonly string[], tensorIndex: number): FeatureMatrix {
  const at = new Map(view.ids.map((id, i) => [id, i]));
  const rows = ids.map((id) => {
    const r = at.get(id);
    if (r === undefined) throw new GraftError('BAD_INPUT', `no augmented view was extracted for '${id}'`);
    return r;
  });
  const all = { data: view.matrices[tensorIndex]!, dim: view.dims[tensorIndex]!, labels: view.labels };
  return selectRows(all, rows);
}
