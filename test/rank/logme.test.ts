/** LogME and k-NN cross-validation against independent references. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { rowGram } from '../../src/rank/gram.js';
import { knnCrossValidation } from '../../src/rank/knn.js';
import { logme } from '../../src/rank/logme.js';

interface Case {
  name: string;
  rows: number;
  dim: number;
  features: number[];
  labels: number[];
  perClass: number[];
  logme: number;
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/sklearn/logme.json', import.meta.url), 'utf8'),
) as { cases: Case[] };

for (const c of fixture.cases) {
  test(`LogME matches the numpy reference: ${c.name}`, () => {
    const f = { data: Float32Array.from(c.features), dim: c.dim, rows: c.rows };
    const score = logme(f, Int32Array.from(c.labels));
    assert.ok(Math.abs(score - c.logme) < 1e-6, `${score} vs ${c.logme}`);
  });
}

test('k-NN cross-validation: hand-checkable clusters and the leave-fold-out rule', () => {
  // Two tight clusters on the axes: every example's neighbours are its own class.
  const rows = 8;
  const data = new Float32Array(rows * 2);
  const labels = Int32Array.from({ length: rows }, (_, i) => i % 2);
  labels.forEach((y, i) => data.set(y === 0 ? [1, 0.01 * i] : [0.01 * i, 1], i * 2));
  const g = rowGram({ data, dim: 2, rows });
  const s = knnCrossValidation(g, labels, 0);
  assert.equal(s.accuracy, 1);
  assert.equal(s.folds, 4);
  // Swapped: each point sits with the other class, so every vote goes wrong.
  const swapped = Int32Array.from(labels, (y, i) => (i < 4 ? y : 1 - y));
  const t = knnCrossValidation(
    g,
    Int32Array.from(labels, (y) => 1 - y),
    0,
  );
  assert.equal(t.accuracy, 1);
  const u = knnCrossValidation(g, swapped, 0);
  assert.ok(u.accuracy < 1);
});
