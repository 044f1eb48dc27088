import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  clipGradNorm,
  createOptimizer,
  type OptimizerSpec,
  type ParamGroup,
  type ParamMap,
} from '../../src/train/optimizers/index.js';

interface OptimCase {
  name: string;
  kind: 'sgd' | 'adam' | 'adamw';
  options: Record<string, unknown> & { lr: number };
  groups?: ParamGroup[];
  clipNorm?: number;
  lrs?: number[];
  init: Record<string, number[]>;
  grads: Record<string, number[]>[];
  after: Record<string, number[]>[];
  totalNorms?: number[];
  finalState: Record<string, Record<string, number[] | number>>;
}

const trace = JSON.parse(
  readFileSync(new URL('../fixtures/torch/optim_trace.json', import.meta.url), 'utf8'),
) as {
  optimizers: OptimCase[];
};

const toMap = (o: Record<string, number[]>): ParamMap =>
  new Map(Object.entries(o).map(([k, v]) => [k, Float32Array.from(v)]));

/**
 * Normwise relative error of a tensor: max |a-b| / max |b|. (Elementwise relative error is not meaningful at
 * float32: torch's fused multiply-adds round differently by 1 ulp, which is large relative to elements that
 * are nearly cancelled, e.g. a momentum buffer crossing zero.)
 */
function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

function spec(c: OptimCase): OptimizerSpec {
  return { kind: c.kind, ...c.options, groups: c.groups } as OptimizerSpec;
}

for (const c of trace.optimizers) {
  test(`optimizer ${c.name} matches torch for ${c.after.length} steps (≤1e-6 rel)`, () => {
    const params = toMap(c.init);
    const opt = createOptimizer(spec(c));
    c.after.forEach((expected, t) => {
      if (c.lrs) opt.lr = c.lrs[t]!;
      const grads = toMap(c.grads[t]!);
      if (c.clipNorm !== undefined) {
        const norm = clipGradNorm(grads, c.clipNorm);
        assert.ok(Math.abs(norm - c.totalNorms![t]!) <= 1e-6 * c.totalNorms![t]!, `norm at step ${t}`);
      }
      opt.step(params, grads);
      for (const [k, v] of Object.entries(expected)) {
        const r = maxRel(params.get(k)!, v);
        assert.ok(r <= 1e-6, `${c.name} step ${t} param ${k}: rel err ${r}`);
      }
    });
    const state = opt.state();
    for (const [k, slots] of Object.entries(c.finalState)) {
      for (const [s, v] of Object.entries(slots)) {
        if (s === 'step') assert.equal(state.paramSteps[k], v);
        else assert.ok(maxRel(state.slots[k]![s]!, v as number[]) <= 1e-6, `${c.name} state ${k}.${s}`);
      }
    }
  });
}

test('state()/loadState() resumes exactly, through JSON', () => {
  for (const c of trace.optimizers) {
    const full = toMap(c.init);
    const a = createOptimizer(spec(c));
    const stepAll = (opt: typeof a, p: ParamMap, from: number, to: number) => {
      for (let t = from; t < to; t++) {
        if (c.lrs) opt.lr = c.lrs[t]!;
        const g = toMap(c.grads[t]!);
        if (c.clipNorm !== undefined) clipGradNorm(g, c.clipNorm);
        opt.step(p, g);
      }
    };
    stepAll(a, full, 0, 5);
    const part = toMap(c.init);
    const b1 = createOptimizer(spec(c));
    stepAll(b1, part, 0, 2);
    const saved = JSON.parse(JSON.stringify(b1.state()));
    const b2 = createOptimizer(spec(c));
    b2.loadState(saved);
    assert.equal(b2.steps, 2);
    stepAll(b2, part, 2, 5);
    for (const [k, v] of full) assert.deepEqual(part.get(k), v, `${c.name} ${k}`);
  }
});

test('rejects bad options and mismatched gradients', () => {
  assert.throws(() => createOptimizer({ kind: 'sgd', lr: -1 }), { code: 'BAD_OPTION' });
  assert.throws(() => createOptimizer({ kind: 'sgd', lr: 0.1, nesterov: true }), { code: 'BAD_OPTION' });
  assert.throws(
    () => createOptimizer({ kind: 'adam', lr: 0.1, groups: [{ params: ['a'] }, { params: ['a'] }] }),
    { code: 'BAD_OPTION' },
  );
  const opt = createOptimizer({ kind: 'adam', lr: 0.1 });
  const p: ParamMap = new Map([['a', new Float32Array(3)]]);
  assert.throws(() => opt.step(p, new Map([['a', new Float32Array(2)]])), { code: 'SHAPE_MISMATCH' });
  assert.throws(() => opt.step(p, new Map([['b', new Float32Array(3)]])), { code: 'BAD_INPUT' });
  assert.throws(() => createOptimizer({ kind: 'sgd', lr: 0.1 }).loadState(opt.state()), {
    code: 'BAD_INPUT',
  });
});

test('clipGradNorm leaves small gradients alone', () => {
  const g: ParamMap = new Map([['a', Float32Array.from([0.3, 0.4])]]);
  assert.ok(Math.abs(clipGradNorm(g, 1) - 0.5) < 1e-7);
  assert.deepEqual(g.get('a'), Float32Array.from([0.3, 0.4]));
});
