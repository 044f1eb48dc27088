import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isGraftError } from '../../src/errors.js';
import { EarlyStopping } from '../../src/train/callbacks/early-stopping.js';
import { arrayDataSource } from '../../src/train/data-source.js';
import { fit, Trainer } from '../../src/train/trainer.js';
import { float32 } from '../../src/tensor.js';
import { irisSources, SoftmaxRegression } from './softmax-model.js';

test('fit: loss decreases and validation accuracy exceeds 0.9 on iris', async () => {
  const { train, val } = irisSources();
  const model = new SoftmaxRegression(4, 3);
  const history = await fit(model, train, {
    epochs: 30,
    batchSize: 16,
    optimizer: { kind: 'adam', lr: 0.05 },
    schedule: { kind: 'cosine', warmupSteps: 5 },
    validation: val,
  });
  const losses = history.epochs.map((e) => e.trainLoss);
  assert.equal(history.epochs.length, 30);
  assert.equal(history.stopReason, 'completed');
  assert.ok(losses.at(-1)! < losses[0]! * 0.5, `loss ${losses[0]} → ${losses.at(-1)}`);
  const last = history.epochs.at(-1)!;
  assert.ok(last.metrics.val_accuracy! > 0.9, `val accuracy ${last.metrics.val_accuracy}`);
  assert.equal(last.valLoss, last.metrics.val_loss);
  assert.equal(last.step, 30 * 8);
});

test('events fire in order with typed payloads; lr follows the schedule', async () => {
  const { train, val } = irisSources();
  const seen: string[] = [];
  const lrs: number[] = [];
  const trainer = new Trainer()
    .on('fitStart', (e) => void seen.push(`fitStart:${e.totalSteps}`))
    .on('epochStart', (e) => void seen.push(`epochStart:${e.epoch}`))
    .on('batchEnd', (e) => void lrs.push(e.lr))
    .on('validate', (e) => void seen.push(`validate:${e.epoch}:${typeof e.metrics.val_accuracy}`))
    .on('epochEnd', (e) => void seen.push(`epochEnd:${e.epoch}`))
    .on('fitEnd', (e) => void seen.push(`fitEnd:${e.reason}`));
  await trainer.fit(new SoftmaxRegression(4, 3), train, {
    epochs: 2,
    batchSize: 40,
    optimizer: { kind: 'sgd', lr: 0.1 },
    schedule: { kind: 'step', stepSize: 2, gamma: 0.5 },
    validation: val,
  });
  assert.deepEqual(seen, [
    'fitStart:6',
    'epochStart:0',
    'validate:0:number',
    'epochEnd:0',
    'epochStart:1',
    'validate:1:number',
    'epochEnd:1',
    'fitEnd:completed',
  ]);
  assert.deepEqual(lrs, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
});

test('early stopping stops after patience and restores the best params', async () => {
  const { train } = irisSources();
  const model = new SoftmaxRegression(4, 3);
  const snapshots: Map<string, Float32Array>[] = [];
  const es = new EarlyStopping({ monitor: 'train_loss', mode: 'max', patience: 1 });
  const history = await new Trainer()
    .on(
      'epochEnd',
      (_e, ctx) => void snapshots.push(new Map([...ctx.model.params].map(([k, v]) => [k, v.slice()]))),
    )
    .fit(model, train, { epochs: 20, batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 }, callbacks: [es] });
  // train loss falls every epoch, so 'max' never improves after epoch 0: stop at epoch 2
  assert.equal(history.stopReason, 'early_stopping');
  assert.equal(history.epochs.length, 3);
  assert.equal(es.bestEpoch, 0);
  assert.equal(es.stoppedEpoch, 2);
  assert.deepEqual(model.params, snapshots[0]);
  assert.notDeepEqual(snapshots[2], snapshots[0]);
});

test('early stopping with val_accuracy defaults to mode max and rejects unknown metrics', async () => {
  assert.equal(new EarlyStopping({ monitor: 'val_accuracy' }).mode, 'max');
  assert.equal(new EarlyStopping().mode, 'min');
  const { train } = irisSources();
  await assert.rejects(
    fit(new SoftmaxRegression(4, 3), train, {
      epochs: 2,
      callbacks: [new EarlyStopping({ monitor: 'val_loss' })],
    }),
    { code: 'BAD_OPTION' },
  );
});

test('accumulating 2 batches of 8 equals one batch of 16 (SGD)', async () => {
  const { train } = irisSources();
  const run = async (batchSize: number, accumulateSteps: number) => {
    const model = new SoftmaxRegression(4, 3);
    const h = await fit(model, train, {
      epochs: 2,
      batchSize,
      accumulateSteps,
      shuffle: true,
      optimizer: { kind: 'sgd', lr: 0.5, momentum: 0.9 },
    });
    return { model, h };
  };
  const a = await run(8, 2);
  const b = await run(16, 1);
  assert.equal(a.h.epochs.at(-1)!.step, b.h.epochs.at(-1)!.step);
  for (const [k, v] of b.model.params) {
    const u = a.model.params.get(k)!;
    for (let i = 0; i < v.length; i++)
      assert.ok(Math.abs(u[i]! - v[i]!) <= 1e-5 * Math.max(1, Math.abs(v[i]!)), k);
  }
  assert.ok(Math.abs(a.h.epochs[1]!.trainLoss - b.h.epochs[1]!.trainLoss) < 1e-5);
  // and a different batch size really does give different params (the test can fail)
  const c = await run(8, 1);
  assert.notDeepEqual(c.model.params, b.model.params);
});

test('gradient clipping reports the pre-clip norm and bounds the step', async () => {
  const { train } = irisSources();
  const norms: number[] = [];
  const model = new SoftmaxRegression(4, 3);
  const before = model.params.get('b')!.slice();
  await new Trainer()
    .on('batchEnd', (e) => void norms.push(e.gradNorm!))
    .fit(model, train, { epochs: 1, batchSize: 120, clipGradNorm: 1e-3, optimizer: { kind: 'sgd', lr: 1 } });
  assert.equal(norms.length, 1);
  assert.ok(norms[0]! > 1e-3);
  const moved = Math.hypot(...model.params.get('b')!.map((v, i) => v - before[i]!));
  assert.ok(moved <= 1e-3 + 1e-7, `moved ${moved}`);
});

test('cancellation: throws CANCELLED, or stops gracefully with onCancel "stop"', async () => {
  const { train } = irisSources();
  const ctl = new AbortController();
  const trainer = new Trainer().on('batchEnd', (e) => {
    if (e.step === 3) ctl.abort();
  });
  await assert.rejects(
    trainer.fit(new SoftmaxRegression(4, 3), train, { epochs: 3, batchSize: 16, signal: ctl.signal }),
    (e: unknown) => isGraftError(e, 'CANCELLED'),
  );
  const ctl2 = new AbortController();
  const model = new SoftmaxRegression(4, 3);
  const h = await new Trainer()
    .on('batchEnd', (e) => {
      if (e.step === 10) ctl2.abort();
    })
    .fit(model, train, { epochs: 3, batchSize: 16, signal: ctl2.signal, onCancel: 'stop' });
  assert.equal(h.stopReason, 'cancelled');
  assert.equal(h.epochs.length, 1);
  assert.equal(model.calls, 10);
});

test('options are validated', async () => {
  const { train } = irisSources();
  const m = new SoftmaxRegression(4, 3);
  await assert.rejects(fit(m, train, { epochs: 0 }), { code: 'BAD_OPTION' });
  await assert.rejects(fit(m, train, { accumulateSteps: 0 }), { code: 'BAD_OPTION' });
  const empty = arrayDataSource({ x: float32([0, 4]) }, new Int32Array(0));
  await assert.rejects(fit(m, empty), { code: 'BAD_INPUT' });
});
