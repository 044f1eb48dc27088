/**
 * Session's memory options reach ONNX Runtime, and a session without the memory pattern or the arena computes
 * exactly what one with them computes, run after run (the pattern takes over from the second run on); training
 * sessions keep the Identity nodes that name their gradient outputs through ONNX Runtime's optimizations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildTrainingGraph } from '../../src/autodiff/index.js';
import { TRAINING_SESSION } from '../../src/learner/trainable-graph.js';
import { decodeModel, encodeModel } from '../../src/onnx/io.js';
import { ortSessionOptions, Session, type SessionOptions } from '../../src/runtime/session.js';
import { float32 } from '../../src/tensor.js';

/** y = softmax(relu(x W1) W2), x [batch, 8]: intermediate values the arena or the pattern places. */
function model() {
  const b = new GraphBuilder('mlp');
  b.input('x', 'float32', ['batch', 8]);
  b.initializer(
    'w1',
    float32(
      [8, 16],
      Array.from({ length: 128 }, (_, i) => Math.sin(i) / 4),
    ),
  );
  b.initializer(
    'w2',
    float32(
      [16, 4],
      Array.from({ length: 64 }, (_, i) => Math.cos(i) / 4),
    ),
  );
  const h = b.op('Relu', [b.op('MatMul', ['x', 'w1'])]);
  b.op('Softmax', [b.op('MatMul', [h, 'w2'])], {}, { outputs: ['y'] });
  b.output('y', 'float32', ['batch', 4]);
  return createModel(b.graph, 17);
}

const input = (n: number) =>
  float32(
    [n, 8],
    Array.from({ length: n * 8 }, (_, i) => Math.sin(3 * i + n)),
  );

describe('Session memory options', () => {
  it('pass memoryPattern and memoryArena to ONNX Runtime, both on by default', () => {
    const d = ortSessionOptions({});
    assert.equal(d.enableMemPattern, true);
    assert.equal(d.enableCpuMemArena, true);
    const off = ortSessionOptions({ memoryPattern: false, memoryArena: false });
    assert.equal(off.enableMemPattern, false);
    assert.equal(off.enableCpuMemArena, false);
  });

  it('give the same outputs with and without the pattern and the arena, on every run', async () => {
    const m = model();
    const plain = await Session.create(m, { threads: 1 });
    const lean = await Session.create(m, { threads: 1, memoryPattern: false, memoryArena: false });
    try {
      for (const n of [5, 5, 5, 3]) {
        const x = input(n);
        const want = (await plain.run({ x }))['y']!.data as Float32Array;
        const got = (await lean.run({ x }))['y']!.data as Float32Array;
        assert.equal(got.length, n * 4);
        assert.deepEqual(Array.from(got), Array.from(want));
      }
    } finally {
      await plain.release();
      await lean.release();
    }
  });
});

/** How many of a training graph's gradient outputs an Identity still produces after ONNX Runtime optimised it. */
async function identityGradientOutputs(options: SessionOptions): Promise<number> {
  const m = model();
  const loss = new GraphBuilder(m.graph).op('ReduceSum', ['y'], {}, { outputs: ['loss'] });
  m.graph.outputs = [{ name: loss, dtype: 'float32', shape: [] }];
  const training = buildTrainingGraph(m, { params: ['w1', 'w2'], loss });
  const dir = mkdtempSync(join(tmpdir(), 'graft-optimized-'));
  try {
    const path = join(dir, 'optimized.onnx');
    const s = await ort.InferenceSession.create(encodeModel(training.model), {
      ...ortSessionOptions({ ...options, threads: 1 }),
      optimizedModelFilePath: path,
    });
    await s.release();
    const optimized = decodeModel(readFileSync(path));
    const grads = new Set(Object.values(training.gradients));
    return optimized.graph.nodes.filter((n) => n.opType === 'Identity' && grads.has(n.outputs[0]!)).length;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Training sessions', () => {
  it("keep the gradient outputs' Identity nodes, which ONNX Runtime otherwise removes", async () => {
    assert.equal(await identityGradientOutputs(TRAINING_SESSION), 2);
    assert.equal(await identityGradientOutputs({ ...TRAINING_SESSION, disabledOptimizers: [] }), 0);
  });
});
