/** What is trainable: cuts, rebuilds on change, recipe phases, layer-wise learning rates in the optimizer. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GraftError } from '../../src/errors.js';
import { findBlocks, resolveCut } from '../../src/strategies/finetune/cut.js';
import {
  gradualUnfreezePhases,
  layerwiseGroups,
  recipePhases,
} from '../../src/strategies/finetune/recipes.js';
import { runPhases } from '../../src/strategies/finetune/run-phases.js';
import type { Optimizer } from '../../src/train/optimizers/index.js';
import { digits, mobilenet, preprocessOf, trainable } from './helpers.js';

test('MobileNetV2 blocks and unfreeze specs resolve to cuts', async () => {
  const bb = await mobilenet();
  const g = bb.model.graph;
  const blocks = findBlocks(g);
  assert.equal(blocks.length, 17); // expanded_conv + block_1..block_16
  assert.equal(blocks[16]!.output, 'block_16_project_BN');
  assert.equal(resolveCut(g, 'input_1', 'flatten_1', 'last:3').cut, 'block_13_project_BN');
  assert.equal(resolveCut(g, 'input_1', 'flatten_1', 'last:1').cut, 'block_15_add');
  assert.deepEqual(resolveCut(g, 'input_1', 'flatten_1', 'all').fromInput, true);
  assert.equal(resolveCut(g, 'input_1', 'flatten_1', 'block_12_add').cut, 'block_12_add');
  // A cut earlier than the final features: the last blocks are counted back from it.
  assert.equal(resolveCut(g, 'input_1', 'block_12_add', 'last:3').cut, 'block_9_add');
  assert.throws(() => resolveCut(g, 'input_1', 'flatten_1', 'no_such_tensor'), /no tensor named/);
});

test('changing what is trainable rebuilds the training graph and session', async () => {
  const bb = await mobilenet();
  const m = await trainable(bb, { unfreeze: 'none' });
  assert.equal(m.buildCount, 1);
  assert.deepEqual([...m.params.keys()], ['head/dense0/weight', 'head/dense0/bias']);
  const g1 = m.training;
  await m.setUnfreeze('last:1');
  assert.equal(m.buildCount, 2);
  assert.notEqual(m.training, g1);
  assert.equal(m.inputName, 'block_15_add');
  const inputs = new Set(m.training.graph.inputs.map((v) => v.name));
  for (const p of m.trainableNames) assert.ok(inputs.has(p), `${p} is fed (trainable)`);
  assert.ok(m.trainableNames.includes('block_16_depthwise/depthwise_kernel'));
  assert.ok(m.trainableNames.includes('Conv_1_bn/gamma'));
  assert.ok(!m.trainableNames.includes('Conv_1_bn/moving_mean'), 'frozen BN statistics are not trained');
  // Frozen BN statistics are folded into their Conv as constants at build time: never fed.
  assert.ok(!inputs.has('Conv_1_bn/moving_mean'), 'frozen weights stay initializers');
  assert.ok(!m.trainableNames.some((n) => n.startsWith('block_15')), 'block_15 stays frozen');
  const head = m.params.get('head/dense0/weight')!;
  await m.setUnfreeze('last:2');
  assert.equal(m.params.get('head/dense0/weight'), head, 'head values carry over');
  assert.ok(m.trainableNames.some((n) => n.startsWith('block_15')));
  await m.release();
});

test('LP-FT and gradual unfreezing change the trainable sets as documented', async () => {
  const lpft = recipePhases({ strategy: 'lp-ft', unfreeze: 'last:3', epochs: 4, lr: 1e-3, freezeEpochs: 2 });
  assert.deepEqual(
    lpft.map((p) => [p.unfreeze, p.epochs, p.lr]),
    [
      ['none', 2, 1e-3],
      ['last:3', 4, 5e-4],
    ],
  );
  assert.deepEqual(
    gradualUnfreezePhases(2, 1, 0.01).map((p) => p.unfreeze),
    ['none', 'last:1', 'last:2'],
  );
  const bb = await mobilenet();
  const m = await trainable(bb, { unfreeze: 'none' });
  const seen: { cut: string; trainable: number }[] = [];
  await runPhases(m, gradualUnfreezePhases(2, 1, 0.01), {
    train: digits(2),
    preprocess: preprocessOf(bb),
    batchSize: 6,
    optimizer: 'sgd',
    weightDecay: 0,
    accumulateSteps: 1,
    seed: 0,
    saveTotalLimit: 1,
    resume: false,
    session: { threads: 2 },
    onPhase: (i) => seen.push({ cut: i.cut, trainable: i.trainable }),
  });
  assert.deepEqual(
    seen.map((s) => s.cut),
    ['flatten_1', 'block_15_add', 'block_14_add'],
  );
  assert.ok(seen[0]!.trainable === 0 && seen[1]!.trainable < seen[2]!.trainable);
  assert.equal(m.buildCount, 4); // create + 3 phases
  await m.release();
});

test('resume with no checkpoint to resume from is a BAD_OPTION naming the directory', async () => {
  const bb = await mobilenet();
  const m = await trainable(bb, { unfreeze: 'none' });
  const dir = await mkdtemp(join(tmpdir(), 'graft-no-ckpt-'));
  try {
    const run = (checkpointDir?: string) =>
      runPhases(m, gradualUnfreezePhases(1, 0, 0.01), {
        train: digits(1),
        preprocess: preprocessOf(bb),
        batchSize: 6,
        optimizer: 'sgd',
        weightDecay: 0,
        accumulateSteps: 1,
        seed: 0,
        saveTotalLimit: 1,
        resume: true,
        ...(checkpointDir ? { checkpointDir } : {}),
      });
    const badOption = (pattern: RegExp) => (e: unknown) =>
      e instanceof GraftError && e.code === 'BAD_OPTION' && pattern.test(e.message);
    await assert.rejects(run(dir), badOption(new RegExp(`nothing to resume from.*'${dir}'`)));
    await assert.rejects(run(), badOption(/checkpoint directory/));
    assert.equal(m.buildCount, 1, 'nothing was trained');
  } finally {
    await rm(dir, { recursive: true, force: true });
    await m.release();
  }
});

test('layer-wise learning-rate multipliers reach the optimizer', async () => {
  const bb = await mobilenet();
  const m = await trainable(bb, { unfreeze: 'last:2' });
  const heads = ['head/dense0/weight', 'head/dense0/bias'];
  const groups = layerwiseGroups(m.training.graph, m.trainableNames, heads, 0.5);
  const scaleOf = (p: string) => groups.find((g) => g.params.includes(p))!.lrScale;
  assert.equal(scaleOf('head/dense0/weight'), 1);
  assert.equal(scaleOf('Conv_1/kernel'), 0.5);
  assert.equal(scaleOf('Conv_1_bn/gamma'), 0.5); // the top conv + its BN are one unit
  assert.equal(scaleOf('block_16_project/kernel'), 0.5 ** 2);
  assert.equal(scaleOf('block_15_expand/kernel'), 0.5 ** 3);
  let optimizer: Optimizer | undefined;
  await runPhases(m, [{ name: 'ft', unfreeze: 'last:2', epochs: 1, lr: 0.1 }], {
    train: digits(1),
    preprocess: preprocessOf(bb),
    batchSize: 3,
    optimizer: 'sgd',
    weightDecay: 0,
    layerwiseLrDecay: 0.5,
    accumulateSteps: 1,
    seed: 0,
    saveTotalLimit: 1,
    resume: false,
    session: { threads: 2 },
    callbacks: [{ fitStart: (_e, ctx) => void (optimizer = ctx.optimizer) }],
  });
  assert.equal(optimizer!.hyper('block_15_expand/kernel').lrScale, 0.5 ** 3);
  assert.equal(optimizer!.hyper('head/dense0/bias').lrScale, 1);
  await m.release();
});
