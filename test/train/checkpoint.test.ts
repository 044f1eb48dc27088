import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Checkpoint } from '../../src/train/callbacks/checkpoint.js';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  listStepCheckpoints,
  loadCheckpoint,
  loadLatestCheckpoint,
} from '../../src/train/checkpoint-io.js';
import type { FitOptions } from '../../src/train/options.js';
import { Trainer } from '../../src/train/trainer.js';
import { irisSources, SoftmaxRegression } from './softmax-model.js';

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'graft-ckpt-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const options = (): Partial<FitOptions> => ({
  epochs: 3,
  batchSize: 16,
  accumulateSteps: 1,
  clipGradNorm: 5,
  seed: 3,
  optimizer: { kind: 'adamw', lr: 0.05, weightDecay: 0.01 },
  schedule: { kind: 'cosine', warmupRatio: 0.1 },
});

test('keep-last-K deletes the oldest step checkpoints; best.ckpt follows the metric', async (t) => {
  const dir = await tempDir(t);
  const { train, val } = irisSources();
  const cb = new Checkpoint({ dir, everySteps: 3, keepLast: 2, best: { monitor: 'val_accuracy' } });
  await new Trainer().fit(new SoftmaxRegression(4, 3), train, {
    ...options(),
    validation: val,
    callbacks: [cb],
  });
  // 24 steps, a checkpoint every 3 → 8 written, 2 kept
  assert.equal(cb.saved.length, 8);
  const left = (await readdir(dir)).sort();
  assert.deepEqual(left, ['best.ckpt', 'step-000000021.ckpt', 'step-000000024.ckpt']);
  const best = await loadCheckpoint(cb.bestPath);
  assert.ok(best && best.batchInEpoch === 0 && best.history.epochs.length >= 1);
});

test('the loader ignores half-written, corrupt and temporary files', async (t) => {
  const dir = await tempDir(t);
  const { train } = irisSources();
  await new Trainer().fit(new SoftmaxRegression(4, 3), train, {
    ...options(),
    epochs: 1,
    callbacks: [new Checkpoint({ dir, everySteps: 4, keepLast: 5 })],
  });
  const good = await readFile(join(dir, 'step-000000008.ckpt'));
  await writeFile(join(dir, 'step-000000100.ckpt'), good.subarray(0, good.length - 10)); // truncated
  const flipped = Buffer.from(good);
  flipped[flipped.length - 1]! ^= 0xff;
  await writeFile(join(dir, 'step-000000090.ckpt'), flipped); // payload checksum fails
  await writeFile(join(dir, '.step-000000200.ckpt.123.abcd.tmp'), good); // temp file of an atomic write
  assert.equal((await listStepCheckpoints(dir)).length, 4);
  const latest = await loadLatestCheckpoint(dir);
  assert.equal(latest?.step, 8);
  assert.equal(await loadLatestCheckpoint(join(dir, 'missing')), undefined);
  assert.equal(decodeCheckpoint(Buffer.from('not a checkpoint')), undefined);
});

test('checkpoint encoding round-trips params, optimizer slots and counters exactly', async () => {
  const { train } = irisSources();
  let state;
  await new Trainer()
    .on('batchEnd', (e, ctx) => {
      if (e.step === 5) state = ctx.snapshot();
    })
    .fit(new SoftmaxRegression(4, 3), train, options());
  assert.ok(state);
  assert.deepEqual(decodeCheckpoint(encodeCheckpoint(state)), state);
});

test('resuming from a mid-epoch checkpoint ends with exactly the params of an uninterrupted run', async (t) => {
  for (const accumulateSteps of [1, 2]) {
    const dir = await tempDir(t);
    const { train, val } = irisSources();
    const opts = { ...options(), accumulateSteps, validation: val };
    const full = new SoftmaxRegression(4, 3);
    const fullHistory = await new Trainer().fit(full, train, opts);

    // interrupted: checkpoints every 5 steps, cancelled at step 7 (mid-epoch 0 with batch 16 → 8 batches)
    const ctl = new AbortController();
    const first = new SoftmaxRegression(4, 3);
    const h1 = await new Trainer()
      .on('batchEnd', (e) => {
        if (e.step === 7) ctl.abort();
      })
      .fit(first, train, {
        ...opts,
        signal: ctl.signal,
        onCancel: 'stop',
        callbacks: [new Checkpoint({ dir, everySteps: 5 })],
      });
    assert.equal(h1.stopReason, 'cancelled');
    const state = await loadLatestCheckpoint(dir);
    assert.equal(state?.step, 5);
    assert.ok(state.batchInEpoch > 0, 'a mid-epoch checkpoint');

    const resumed = new SoftmaxRegression(4, 3, 99); // different init: the checkpoint must overwrite it
    const h2 = await new Trainer().fit(resumed, train, { ...opts, resume: state });
    assert.deepEqual(resumed.params, full.params, `accumulateSteps ${accumulateSteps}`);
    assert.deepEqual(h2.epochs, fullHistory.epochs);
  }
});
