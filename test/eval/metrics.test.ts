import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { accuracy, logLoss, macroF1, topKAccuracy } from '../../src/eval/metrics.js';
import { evaluate, formatReport } from '../../src/eval/report.js';

interface Expected {
  accuracy: number;
  top2: number | null;
  top3: number | null;
  macroF1: number;
  macroPrecision: number;
  macroRecall: number;
  weightedF1: number;
  balancedAccuracy: number | null;
  logLoss: number;
  precision: number[];
  recall: number[];
  f1: number[];
  support: number[];
  confusion: number[][];
}
const fixture = JSON.parse(
  readFileSync(new URL('../fixtures/sklearn/metrics.json', import.meta.url), 'utf8'),
) as {
  logLossEps: number;
  metrics: { name: string; numClasses: number; probs: number[]; labels: number[]; expected: Expected }[];
};

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) <= 1e-9, `${what}: ${a} vs ${b}`);

for (const c of fixture.metrics) {
  test(`metrics match sklearn on '${c.name}' (≤1e-9)`, () => {
    const probs = Float32Array.from(c.probs);
    const labels = Int32Array.from(c.labels);
    const e = c.expected;
    const r = evaluate(probs, labels, { topK: [2, 3], eps: fixture.logLossEps });
    assert.equal(r.numClasses, c.numClasses);
    close(r.accuracy, e.accuracy, 'accuracy');
    close(accuracy(probs, labels), e.accuracy, 'accuracy()');
    if (e.top2 !== null) close(r.topK['2']!, e.top2, 'top2');
    if (e.top3 !== null) close(topKAccuracy(probs, labels, 3), e.top3, 'top3');
    close(r.macroF1, e.macroF1, 'macroF1');
    close(macroF1(probs, labels), e.macroF1, 'macroF1()');
    close(r.macroPrecision, e.macroPrecision, 'macroPrecision');
    close(r.macroRecall, e.macroRecall, 'macroRecall');
    close(r.weightedF1, e.weightedF1, 'weightedF1');
    if (e.balancedAccuracy !== null) close(r.balancedAccuracy, e.balancedAccuracy, 'balancedAccuracy');
    close(r.logLoss, e.logLoss, 'logLoss');
    close(logLoss(probs, labels, fixture.logLossEps), e.logLoss, 'logLoss()');
    r.perClass.forEach((s, k) => {
      close(s.precision, e.precision[k]!, `precision[${k}]`);
      close(s.recall, e.recall[k]!, `recall[${k}]`);
      close(s.f1, e.f1[k]!, `f1[${k}]`);
      assert.equal(s.support, e.support[k]);
    });
    assert.deepEqual(r.confusion, e.confusion);
    assert.deepEqual(JSON.parse(JSON.stringify(r)), r, 'report is JSON-serialisable');
  });
}

test('formatReport prints a row per class and the confusion matrix', () => {
  const c = fixture.metrics[0]!;
  const r = evaluate(Float32Array.from(c.probs), Int32Array.from(c.labels));
  const names = ['cat', 'dog', 'bird', 'fish', 'a-much-longer-name'];
  const text = formatReport(r, names);
  for (const n of names) assert.match(text, new RegExp(`${n}\\s+\\d\\.\\d{4}`));
  assert.match(text, /macro avg\s+0\.4094\s+0\.4076\s+0\.4079\s+200/);
  assert.match(text, /confusion matrix/);
  assert.throws(() => formatReport(r, ['x']), { code: 'BAD_INPUT' });
});

test('metrics reject inconsistent input', () => {
  assert.throws(() => evaluate(new Float32Array(5), Int32Array.from([0, 1])), { code: 'SHAPE_MISMATCH' });
  assert.throws(() => evaluate(new Float32Array(4), Int32Array.from([0, 2])), { code: 'BAD_INPUT' });
  assert.throws(() => evaluate(new Float32Array(0), new Int32Array(0)), { code: 'BAD_INPUT' });
});
