import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { makeSchedule, type ScheduleSpec } from '../../src/train/schedules.js';

const trace = JSON.parse(
  readFileSync(new URL('../fixtures/torch/optim_trace.json', import.meta.url), 'utf8'),
) as {
  schedules: { name: string; spec: ScheduleSpec; lr: number; totalSteps: number; lrs: number[] }[];
};

for (const c of trace.schedules) {
  test(`schedule ${c.name} matches torch (≤1e-9 rel)`, () => {
    const s = makeSchedule(c.spec, c.lr, c.totalSteps);
    c.lrs.forEach((expected, step) => {
      const got = s.lrAt(step);
      assert.ok(Math.abs(got - expected) <= 1e-9 * c.lr, `${c.name} step ${step}: ${got} vs ${expected}`);
    });
  });
}

test('schedules reject bad specs', () => {
  assert.throws(() => makeSchedule({ kind: 'cosine', warmupSteps: 10 }, 0.1, 10), { code: 'BAD_OPTION' });
  assert.throws(() => makeSchedule({ kind: 'onecycle', warmupSteps: 2 }, 0.1, 10), { code: 'BAD_OPTION' });
  assert.throws(() => makeSchedule({ kind: 'step', stepSize: 0 }, 0.1, 10), { code: 'BAD_OPTION' });
  assert.throws(() => makeSchedule({ kind: 'constant' }, 0.1, 0), { code: 'BAD_OPTION' });
});

test('cosine and linear stay at their floor after totalSteps', () => {
  assert.equal(makeSchedule({ kind: 'cosine', minLr: 0.01 }, 0.1, 10).lrAt(25), 0.01);
  assert.equal(makeSchedule({ kind: 'linear' }, 0.1, 10).lrAt(25), 0);
});
