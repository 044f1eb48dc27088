/** report.html states the uncertainty of accuracies measured on few examples. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderReport } from '../../src/report/render.js';
import { reportFixture } from './fixture.js';

test('under 200 held-out examples, accuracies carry Wilson intervals and the cross-validated estimate', async () => {
  const data = await reportFixture(); // 150 held-out examples, 129 right; raw pixels 41% = 62/150
  const html = renderReport(data);
  // 129/150: [0.7954, 0.9066]; 62/150: [0.3313, 0.4867]. The best CV accuracy (86%) is on 600 examples: no interval.
  assert.match(html, /95% CI 79\.5%–90\.7%/);
  assert.match(html, /33\.1%–48\.7%/);
  assert.match(html, /95% interval \(n=150\)/);
  assert.match(html, /cross-validated \(train, n=600\)/);
  assert.match(html, /86\.0%<\/div><div class="label">cross-validated/);
});

test('from 200 held-out examples on, accuracies are shown plain', async () => {
  const data = await reportFixture();
  const confusion = data.evaluation.confusion.map((row) => row.map((v) => v * 2));
  const html = renderReport({ ...data, evaluation: { ...data.evaluation, confusion } });
  assert.doesNotMatch(html, /95% CI|95% interval|cross-validated \(train/);
});
