import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { Checkpoint } from '../../src/train/callbacks/checkpoint.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/train/checkpoint-io.js';
import {
  assertSameRun,
  findResumeCheckpoint,
  latestCheckpoint,
  listCheckpoints,
  readCheckpoint,
  STATE_FILE,
  TRAINER_STATE,
} from '../../src/train/checkpoints.js';
import type { FitOptions } from '../../src/train/options.js';
import { Trainer } from '../../src/train/trainer.js';
import { writeDirAtomic } from '../../src/util/atomic.js';
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

test('checkpoint-<step>/ every 3 steps and at epoch ends; rotation keeps the newest 2 and the best', async (t) => {
  const dir = await tempDir(t);
  const { train, val } = irisSources();
  const cb = new Checkpoint({
    dir,
    everySteps: 3,
    everyEpoch: true,
    saveTotalLimit: 2,
    best: { monitor: 'val_accuracy' },
    run: { lr: 0.05 },
  });
  const history = await new Trainer().fit(new SoftmaxRegression(4, 3), train, {
    ...options(),
    validation: val,
    callbacks: [cb],
  });
  // 8 steps per epoch, 24 in all: steps 3, 6, …, 24 and epoch ends 8, 16, 24 (24 written twice)
  assert.equal(cb.saved.length, 11);
  const accs = history.epochs.map((e) => e.metrics['val_accuracy']!);
  const bestEpoch = accs.findIndex((a) => a === Math.max(...accs));
  const best = `checkpoint-${8 * (bestEpoch + 1)}`;
  const left = (await listCheckpoints(dir)).map((c) => c.path.slice(dir.length + 1));
  assert.deepEqual(
    left,
    best === 'checkpoint-24' ? ['checkpoint-21', 'checkpoint-24'] : [best, 'checkpoint-24'],
  );
  assert.deepEqual((await readdir(join(dir, 'checkpoint-24'))).sort(), [STATE_FILE, TRAINER_STATE].sort());
  const last = await readCheckpoint(join(dir, 'checkpoint-24'));
  assert.equal(last.trainer.global_step, 24);
  assert.equal(last.trainer.epoch, 3);
  assert.equal(last.trainer.phase, 0);
  assert.equal(last.trainer.best_metric, accs[bestEpoch]);
  assert.equal(last.trainer.best_model_checkpoint, join(dir, best));
  assert.deepEqual(last.trainer.run, { lr: 0.05 });
  assert.deepEqual(
    last.trainer.log_history.map((l) => [l.epoch, l.step, l['val_accuracy']]),
    accs.map((a, i) => [i + 1, 8 * (i + 1), a]),
  );
  assert.equal(last.state.epoch, 3);
  assert.equal(last.state.batchInEpoch, 0);
});

test('the newest intact checkpoint is found; damaged and half-written ones are skipped', async (t) => {
  const dir = await tempDir(t);
  const { train } = irisSources();
  await new Trainer().fit(new SoftmaxRegression(4, 3), train, {
    ...options(),
    epochs: 1,
    callbacks: [new Checkpoint({ dir, everySteps: 4 })],
  });
  const good = join(dir, 'checkpoint-8');
  const state = await readFile(join(good, STATE_FILE));
  await cp(good, join(dir, 'checkpoint-100'), { recursive: true });
  await writeFile(join(dir, 'checkpoint-100', STATE_FILE), state.subarray(0, state.length - 10)); // truncated
  await cp(good, join(dir, 'checkpoint-90'), { recursive: true });
  const flipped = Buffer.from(state);
  flipped[flipped.length - 1]! ^= 0xff;
  await writeFile(join(dir, 'checkpoint-90', STATE_FILE), flipped); // payload checksum fails
  await cp(good, join(dir, 'checkpoint-80'), { recursive: true });
  await rm(join(dir, 'checkpoint-80', TRAINER_STATE)); // incomplete
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  await cp(good, join(dir, `.checkpoint-200.${dead}.0123abcd.tmp`), { recursive: true }); // a killed write
  assert.deepEqual(
    (await listCheckpoints(dir)).map((c) => c.step),
    [4, 8, 80, 90, 100],
  );
  assert.equal((await latestCheckpoint(dir))?.trainer.global_step, 8);
  assert.equal((await findResumeCheckpoint(true, dir)).path, good);
  const mid = await findResumeCheckpoint(join(dir, 'checkpoint-4'), '/unused');
  assert.equal(mid.trainer.global_step, 4);
  assert.equal(mid.trainer.epoch, 0.5);
  assert.equal(mid.state.batchInEpoch, 4, 'data position: 4 batches of the epoch consumed');
  await assert.rejects(readCheckpoint(join(dir, 'checkpoint-90')), (e) => isGraftError(e, 'CORRUPT_MODEL'));
  assert.equal(decodeCheckpoint(Buffer.from('not a checkpoint')), undefined);

  // the next checkpoint write clears the killed write's temporary directory
  await new Trainer().fit(new SoftmaxRegression(4, 3), train, {
    ...options(),
    epochs: 1,
    callbacks: [new Checkpoint({ dir: dir, everySteps: 8 })],
  });
  assert.ok(!(await readdir(dir)).some((n) => n.endsWith('.tmp')));
});

test('nothing to resume from is BAD_OPTION naming the directory', async (t) => {
  const dir = await tempDir(t);
  for (const from of [true, dir] as const)
    await assert.rejects(
      findResumeCheckpoint(from, dir),
      (e) => isGraftError(e, 'BAD_OPTION') && e.message.includes(dir) && /nothing to resume/.test(e.message),
    );
  await assert.rejects(findResumeCheckpoint(join(dir, 'checkpoint-7'), dir), (e) =>
    isGraftError(e, 'CORRUPT_MODEL'),
  );
});

test('a checkpoint of a run with other options or another model is refused', async (t) => {
  const dir = await tempDir(t);
  const { train } = irisSources();
  await new Trainer().fit(new SoftmaxRegression(4, 3), train, {
    ...options(),
    epochs: 1,
    callbacks: [new Checkpoint({ dir, everySteps: 4, run: { lr: 0.05, seed: 3 } })],
  });
  const saved = await findResumeCheckpoint(true, dir);
  assertSameRun(saved, { lr: 0.05, seed: 3 });
  assert.throws(
    () => assertSameRun(saved, { lr: 0.01, seed: 3 }),
    (e) => isGraftError(e, 'BAD_OPTION') && /lr=0.05 where this run has 0.01/.test(e.message),
  );
  assert.throws(
    () => assertSameRun(saved, { lr: 0.05 }),
    (e) => isGraftError(e, 'BAD_OPTION') && /seed=3 where this run has \(unset\)/.test(e.message),
  );
  // parameters of another size, or other names, never half-load
  for (const model of [new SoftmaxRegression(4, 2), new SoftmaxRegression(4, 3)]) {
    if (model.classes === 3) model.params.set('extra', new Float32Array(1));
    await assert.rejects(new Trainer().fit(model, train, { ...options(), resume: saved.state }), (e) =>
      isGraftError(e, 'SHAPE_MISMATCH'),
    );
  }
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

test('writeDirAtomic replaces a directory whole', async (t) => {
  const dir = await tempDir(t);
  const target = join(dir, 'checkpoint-1');
  await writeDirAtomic(target, { a: 'one', b: 'two' });
  await writeDirAtomic(target, { c: 'three' });
  assert.deepEqual(await readdir(target), ['c']);
  assert.deepEqual(await readdir(dir), ['checkpoint-1']);
  await mkdir(join(dir, 'blocker'));
  await writeFile(join(dir, 'blocker', 'x'), '');
  await assert.rejects(writeDirAtomic(join(dir, 'blocker', 'x', 'y'), { a: '' }), (e) =>
    isGraftError(e, 'IO_ERROR'),
  );
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
    const saved = await latestCheckpoint(dir);
    assert.equal(saved?.state.step, 5);
    assert.ok(saved.state.batchInEpoch > 0, 'a mid-epoch checkpoint');

    const resumed = new SoftmaxRegression(4, 3, 99); // different init: the checkpoint must overwrite it
    const h2 = await new Trainer().fit(resumed, train, { ...opts, resume: saved.state });
    assert.deepEqual(resumed.params, full.params, `accumulateSteps ${accumulateSteps}`);
    assert.deepEqual(h2.epochs, fullHistory.epochs);
  }
});
