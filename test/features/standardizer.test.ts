/**
 * fitStandardizer against a two-pass float64 reference (numpy's mean/std with ddof 0, as scikit-learn's
 * StandardScaler): ordinary columns, a constant column (std 1), and a column far from zero whose spread is
 * small, where a one-pass sum of squares without the shift would lose every significant digit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../src/data/random.js';
import { fitStandardizer } from '../../src/features/matrix.js';

test('per-column mean and std match a two-pass float64 reference', () => {
  const rows = 301;
  const dim = 5;
  const u = mulberry32(11);
  const data = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    data[r * dim] = 4 * u() - 1;
    data[r * dim + 1] = 7;
    data[r * dim + 2] = 30000 + u() / 8;
    data[r * dim + 3] = u() < 0.5 ? 0 : 6 * u();
    data[r * dim + 4] = -1e-3 * u();
  }
  const got = fitStandardizer({ data, dim, labels: new Int32Array(rows) });
  for (let c = 0; c < dim; c++) {
    let mean = 0;
    for (let r = 0; r < rows; r++) mean += data[r * dim + c]!;
    mean /= rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (data[r * dim + c]! - mean) ** 2;
    const sd = Math.sqrt(v / rows);
    const std = sd < 1e-7 ? 1 : sd;
    assert.equal(got.mean[c], Math.fround(mean), `mean of column ${c}`);
    assert.ok(Math.abs(got.std[c]! - std) <= 1e-6 * std, `std of column ${c}: ${got.std[c]} vs ${std}`);
  }
  assert.equal(got.std[1], 1, 'a constant column keeps std 1');
});
