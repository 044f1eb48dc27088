import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveSeed, mulberry32, shuffled } from '../../src/data/random.js';
import { classCounts, sampleShots, stratifiedSplit } from '../../src/data/split.js';
import type { TextDataset } from '../../src/data/types.js';
import { isGraftError } from '../../src/errors.js';

/** A text dataset with `counts[c]` examples of class c, interleaved. */
function make(counts: number[]): TextDataset {
  const examples: { id: string; label: number; source: string }[] = [];
  const left = [...counts];
  for (let i = 0; left.some((n) => n > 0); i++) {
    const c = i % counts.length;
    if (left[c]! > 0) {
      examples.push({ id: `c${c}-${left[c]}`, label: c, source: `text ${c} ${left[c]}` });
      left[c]!--;
    }
  }
  return {
    kind: 'text',
    name: 'synthetic',
    labels: counts.map((_, c) => `class${c}`),
    examples,
    warnings: [],
  };
}

const ids = (ds: TextDataset): string[] => ds.examples.map((e) => e.id);

describe('mulberry32', () => {
  it('is deterministic, in [0, 1), and seed-dependent', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(
      xs,
      Array.from({ length: 1000 }, () => b()),
    );
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
    assert.notEqual(mulberry32(43)(), mulberry32(42)());
    assert.notEqual(deriveSeed(1, 'a'), deriveSeed(1, 'b'));
  });

  it('shuffles into a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s = shuffled(items, mulberry32(7));
    assert.notDeepEqual(s, items);
    assert.deepEqual(
      [...s].sort((a, b) => a - b),
      items,
    );
  });
});

describe('stratifiedSplit', () => {
  it('splits every class in proportion, disjointly and completely', () => {
    const ds = make([100, 50, 20]);
    const sp = stratifiedSplit(ds, { validation: 0.2, test: 0.1, seed: 3 });
    assert.deepEqual(classCounts(sp.train), [70, 35, 14]);
    assert.deepEqual(classCounts(sp.validation), [20, 10, 4]);
    assert.deepEqual(classCounts(sp.test), [10, 5, 2]);
    const all = [...ids(sp.train), ...ids(sp.validation), ...ids(sp.test)];
    assert.equal(new Set(all).size, ds.examples.length);
    assert.deepEqual(sp.train.labels, ds.labels);
    // Within each part, examples stay in dataset order.
    const pos = new Map(ds.examples.map((e, i) => [e.id, i]));
    const order = ids(sp.train).map((id) => pos.get(id)!);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  it('gives the same split for the same seed and a different one for another seed', () => {
    const ds = make([40, 40]);
    const a = stratifiedSplit(ds, { seed: 1 });
    const b = stratifiedSplit(ds, { seed: 1 });
    const c = stratifiedSplit(ds, { seed: 2 });
    assert.deepEqual(ids(a.train), ids(b.train));
    assert.deepEqual(ids(a.test), ids(b.test));
    assert.notDeepEqual(ids(a.test), ids(c.test));
  });

  it('keeps a single-example class in train with a warning, and small classes keep one in train', () => {
    const ds = make([1, 2, 10]);
    const sp = stratifiedSplit(ds, { validation: 0.5, test: 0.4, seed: 0 });
    assert.deepEqual(classCounts(sp.train), [1, 1, 1]);
    assert.deepEqual(classCounts(sp.validation), [0, 1, 5]);
    assert.deepEqual(classCounts(sp.test), [0, 0, 4]);
    const w = sp.warnings.find((x) => x.code === 'SINGLETON_CLASS');
    assert.deepEqual(w?.items, ['class0']);
    assert.ok(sp.train.warnings.some((x) => x.code === 'SINGLETON_CLASS'));
  });

  it('rejects bad fractions', () => {
    assert.throws(
      () => stratifiedSplit(make([5]), { validation: 0.6, test: 0.5 }),
      (e: unknown) => isGraftError(e, 'BAD_OPTION'),
    );
    assert.throws(
      () => stratifiedSplit(make([5]), { test: -0.1 }),
      (e: unknown) => isGraftError(e, 'BAD_OPTION'),
    );
  });
});

describe('sampleShots', () => {
  it('takes exactly k per class, deterministically, nested across k', () => {
    const ds = make([30, 12, 9]);
    const five = sampleShots(ds, 5, 11);
    assert.deepEqual(classCounts(five), [5, 5, 5]);
    assert.deepEqual(five.labels, ds.labels);
    assert.deepEqual(ids(five), ids(sampleShots(ds, 5, 11)));
    assert.notDeepEqual(ids(five), ids(sampleShots(ds, 5, 12)));
    const two = new Set(ids(sampleShots(ds, 2, 11)));
    assert.ok([...two].every((id) => ids(five).includes(id)));
  });

  it('errors when a class has fewer than k, or takes all with a warning on request', () => {
    const ds = make([10, 3]);
    assert.throws(
      () => sampleShots(ds, 4, 0),
      (e: unknown) => isGraftError(e, 'BAD_OPTION') && /class1/.test(e.message),
    );
    const taken = sampleShots(ds, 4, 0, { onTooFew: 'all' });
    assert.deepEqual(classCounts(taken), [4, 3]);
    assert.equal(taken.warnings.find((w) => w.code === 'TOO_FEW_SHOTS')?.count, 1);
    assert.throws(
      () => sampleShots(ds, 0, 0),
      (e: unknown) => isGraftError(e, 'BAD_OPTION'),
    );
  });
});
