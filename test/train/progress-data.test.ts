import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ProgressLogger } from '../../src/train/callbacks/progress.js';
import { arrayDataSource } from '../../src/train/data-source.js';
import { deriveSeed, permutation, Rng } from '../../src/train/random.js';
import { fit } from '../../src/train/trainer.js';
import { float32, int64 } from '../../src/tensor.js';
import { irisSources, SoftmaxRegression } from './softmax-model.js';

class Sink extends Writable {
  text = '';
  isTTY: boolean;
  constructor(tty = false) {
    super();
    this.isTTY = tty;
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.text += chunk.toString();
    cb();
  }
}

test('ProgressLogger writes JSON lines when not a TTY, nothing when silent', async () => {
  const { train, val } = irisSources();
  const sink = new Sink();
  await fit(new SoftmaxRegression(4, 3), train, {
    epochs: 2,
    batchSize: 16,
    validation: val,
    callbacks: [new ProgressLogger({ stream: sink, logEverySteps: 4 })],
  });
  const lines = sink.text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l.event),
    ['fitStart', 'batch', 'batch', 'epoch', 'batch', 'batch', 'epoch', 'fitEnd'],
  );
  const epoch = lines[3]!;
  assert.equal(typeof epoch.val_accuracy, 'number');
  assert.equal(typeof lines[1]!.itemsPerSec, 'number');
  const quiet = new Sink();
  await fit(new SoftmaxRegression(4, 3), train, {
    epochs: 1,
    callbacks: [new ProgressLogger({ stream: quiet, silent: true })],
  });
  assert.equal(quiet.text, '');
});

test('ProgressLogger draws a bar with items/s on a TTY', async () => {
  const { train } = irisSources();
  const tty = new Sink(true);
  await fit(new SoftmaxRegression(4, 3), train, {
    epochs: 1,
    batchSize: 16,
    callbacks: [new ProgressLogger({ stream: tty })],
  });
  assert.match(tty.text, /120\/120 \| [\d.]+ items\/s/);
  assert.match(tty.text, /epoch 1\/1: train_loss/);
});

test('arrayDataSource: order is a function of (seed, epoch); batches gather rows of any dtype', async () => {
  const x = float32(
    [10, 2],
    Array.from({ length: 20 }, (_, i) => i),
  );
  const ids = int64(
    [10],
    Array.from({ length: 10 }, (_, i) => i),
  );
  const labels = Int32Array.from({ length: 10 }, (_, i) => i);
  const order = async (seed: number, epoch: number, shuffle = true) => {
    const out: number[] = [];
    for await (const b of arrayDataSource({ x, ids }, labels, { seed }).batches(4, epoch, shuffle)) {
      b.labels.forEach((y, r) => {
        assert.deepEqual(Array.from((b.inputs.x!.data as Float32Array).subarray(r * 2, r * 2 + 2)), [
          2 * y,
          2 * y + 1,
        ]);
        assert.equal((b.inputs.ids!.data as BigInt64Array)[r], BigInt(y));
      });
      assert.deepEqual(b.inputs.x!.shape, [b.labels.length, 2]);
      out.push(...b.labels);
    }
    return out;
  };
  assert.deepEqual(await order(1, 0), await order(1, 0));
  assert.notDeepEqual(await order(1, 0), await order(1, 1));
  assert.notDeepEqual(await order(1, 0), await order(2, 0));
  assert.deepEqual(await order(1, 5, false), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(
    [...(await order(3, 2))].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.throws(() => arrayDataSource({ x }, new Int32Array(3)), { code: 'SHAPE_MISMATCH' });
});

test('Rng is deterministic, uniform-ish and resumable from its state', () => {
  const a = new Rng(42);
  const first = [a.next(), a.next()];
  const saved = a.state;
  const next = a.next();
  const b = new Rng(0);
  b.state = saved;
  assert.equal(b.next(), next);
  assert.deepEqual([new Rng(42).next(), new Rng(42).next()], [first[0], first[0]]);
  const r = new Rng(5);
  const mean = Array.from({ length: 10000 }, () => r.next()).reduce((s, v) => s + v, 0) / 10000;
  assert.ok(Math.abs(mean - 0.5) < 0.02);
  assert.notEqual(deriveSeed(1, 0), deriveSeed(1, 1));
  assert.deepEqual([...permutation(5, new Rng(1))].sort(), [0, 1, 2, 3, 4]);
});
