/** Fine-tuned model exported as one model.onnx: a plain InferenceSession predicts what graft predicts. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../src/onnx/io.js';
import { batchShape, imageLength, preprocessInto } from '../../src/preprocess/image.js';
import { fineTunedClassifierModel } from '../../src/pipeline/finetune-export.js';
import { fineTuneClassifier } from '../../src/pipeline/finetune.js';
import { ActivationCache } from '../../src/strategies/finetune/activations.js';
import { activationsFor, runPhases } from '../../src/strategies/finetune/run-phases.js';
import { digits, mobilenet, preprocessOf, trainable } from './helpers.js';
import { loadMnist } from '../../src/data/builtin-mnist.js';
import { sampleShots } from '../../src/data/split.js';

test('exported fine-tuned model (backbone + head) matches graft within 1e-5 in a plain InferenceSession', async () => {
  const bb = await mobilenet();
  const pre = preprocessOf(bb);
  for (const bnMode of ['frozen', 'train'] as const) {
    const model = await trainable(bb, { unfreeze: 'last:2', bnMode });
    const train = digits(4);
    await runPhases(model, [{ name: 'ft', unfreeze: 'last:2', epochs: 1, lr: 1e-2 }], {
      train,
      preprocess: pre,
      batchSize: 6,
      optimizer: 'adam',
      weightDecay: 0,
      accumulateSteps: 1,
      seed: 3,
      saveTotalLimit: 1,
      resume: false,
      session: { threads: 2 },
    });
    const changed = model.params.get('block_16_project/kernel')!;
    const original = bb.model.graph.initializers.get('block_16_project/kernel')!.data as Float32Array;
    assert.ok(
      changed.some((v, i) => v !== original[i]),
      'the backbone weights were fine-tuned',
    );

    const test6 = digits(2, 9);
    const acts = await activationsFor(model, new ActivationCache(), test6, pre, { threads: 2 });
    const graftProbs = await model.predictProbs({ [model.inputName]: acts });

    const merged = await fineTunedClassifierModel({
      backbone: bb,
      tuned: model.currentBackbone(),
      featureTensor: bb.spec.featureTensor,
      head: model.exportHead(),
      labels: ['0', '1', '2'],
    });
    const session = await ort.InferenceSession.create(encodeModel(merged), { intraOpNumThreads: 2 });
    const per = imageLength(pre);
    const x = new Float32Array(per * test6.length);
    await Promise.all(test6.map((e, i) => preprocessInto(e.source, pre, x, i * per)));
    const out = await session.run({
      [bb.spec.inputName]: new ort.Tensor('float32', x, batchShape(test6.length, pre)),
    });
    const probs = out['probabilities']!.data as Float32Array;
    let maxDiff = 0;
    for (let i = 0; i < probs.length; i++) maxDiff = Math.max(maxDiff, Math.abs(probs[i]! - graftProbs[i]!));
    assert.ok(maxDiff <= 1e-5, `${bnMode}: max |ORT - graft| = ${maxDiff}`);
    await session.release();
    await model.release();
  }
});

test('fineTuneClassifier writes model.onnx + graft.json with the strategy and checkpoints', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'graft-ft-'));
  try {
    const data = sampleShots(loadMnist(), 6, 1);
    const r = await fineTuneClassifier({
      data,
      strategy: 'fine-tune',
      unfreeze: 'last:1',
      epochs: 1,
      threads: 2,
      out: dir,
      saveSteps: 1,
      saveTotalLimit: 2,
    });
    assert.equal(r.phases.length, 1);
    // 6 digits per class, 10% of each class held out for test: one per class (learning is shown by
    // test/options/matrix.test.ts, where fine-tuning is scored on 90 held-out examples).
    assert.equal(r.evaluatedOn, 'test');
    assert.equal(r.evaluation.n, 10);
    const report = await readFile(join(dir, 'report.html'), 'utf8');
    assert.match(report, /accuracy \(test, n=10\)/);
    const manifest = JSON.parse(await readFile(join(dir, 'graft.json'), 'utf8'));
    assert.equal(manifest.training.strategy, 'fine-tune');
    assert.equal(manifest.training.unfreeze, 'last:1');
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    assert.deepEqual(session.outputNames, ['probabilities']);
    await session.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
