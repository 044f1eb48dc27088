/** Wilson intervals against values worked out by hand from the closed form. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accuracyText, wilsonInterval } from '../../src/eval/interval.js';

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 5e-5, `${what}: ${a} vs ${b}`);

test('wilsonInterval matches hand-computed intervals', () => {
  // 8/10: z² = 3.841459, centre = (0.8 + 0.192073) / 1.384146 = 0.716742,
  // half = 1.959964 / 1.384146 × √(0.016 + 0.0096036) = 1.415987 × 0.160012 = 0.226580 → [0.49016, 0.94332].
  const a = wilsonInterval(8, 10);
  close(a.low, 0.49016, '8/10 low');
  close(a.high, 0.94332, '8/10 high');
  // 0/10: low 0, high = z² / (n + z²) = 3.84146 / 13.84146 = 0.27753.
  const b = wilsonInterval(0, 10);
  close(b.low, 0, '0/10 low');
  close(b.high, 0.27753, '0/10 high');
  // 10/10 mirrors it.
  const c = wilsonInterval(10, 10);
  close(c.low, 1 - 0.27753, '10/10 low');
  close(c.high, 1, '10/10 high');
  // 50/100: centre 0.5, half = 1.959964 / 1.0384146 × √(0.0025 + 0.0000960) = 0.0961685.
  const d = wilsonInterval(50, 100);
  close(d.low, 0.5 - 0.0961685, '50/100 low');
  close(d.high, 0.5 + 0.0961685, '50/100 high');
  assert.deepEqual(wilsonInterval(0, 0), { low: 0, high: 1 });
});

test('accuracyText adds the interval below 200 examples only', () => {
  assert.equal(accuracyText(0.8, 10), '80.0% (95% CI 49.0–94.3%, n=10)');
  assert.equal(accuracyText(0.8, 500), '80.0%');
});
