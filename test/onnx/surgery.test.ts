import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel } from '../../src/onnx/ir.js';
import { append, cut, extract } from '../../src/onnx/surgery.js';
import { Session } from '../../src/runtime/session.js';
import { float32, type Tensor } from '../../src/tensor.js';
import { isGraftError } from '../../src/errors.js';

function randn(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = s / 2147483648 - 0.5;
  }
  return out;
}

/** x[N,4] → Gemm(8) → Relu ('feat') → Gemm(3) → Softmax. */
function mlp() {
  const b = new GraphBuilder('mlp');
  b.input('x', 'float32', ['batch', 4]);
  const w1 = b.initializer('w1', float32([4, 8], randn(32, 1)));
  const b1 = b.initializer('b1', float32([8], randn(8, 2)));
  const w2 = b.initializer('w2', float32([8, 3], randn(24, 3)));
  const h = b.op('Gemm', ['x', w1, b1]);
  b.op('Relu', [h], {}, { outputs: ['feat'] });
  const logits = b.op('Gemm', ['feat', w2], {}, { outputs: ['logits'] });
  b.op('Softmax', [logits], { axis: attr.int(-1) }, { outputs: ['probs'] });
  b.output('probs', 'float32', ['batch', 3]);
  return b.graph;
}

async function run(graph: ReturnType<typeof mlp>, feeds: Record<string, Tensor>): Promise<Float32Array> {
  const s = await Session.create(createModel(graph), { threads: 1 });
  const out = await s.run(feeds);
  return out[graph.outputs[0]!.name]!.data as Float32Array;
}

test('cut: suffix(prefix(x)) equals the whole graph', async () => {
  const g = mlp();
  const x = float32([5, 4], randn(20, 9));
  const whole = await run(g, { x });
  const { prefix, suffix } = cut(g, 'feat', { name: 'feat', dtype: 'float32', shape: ['batch', 8] });
  assert.deepEqual(
    prefix.nodes.map((n) => n.opType),
    ['Gemm', 'Relu'],
  );
  assert.deepEqual(
    suffix.nodes.map((n) => n.opType),
    ['Gemm', 'Softmax'],
  );
  assert.ok(!suffix.initializers.has('w1'), 'prefix weights do not leak into the suffix');
  const feat = await run(prefix, { x });
  const composed = await run(suffix, { feat: float32([5, 8], feat) });
  assert.deepEqual([...composed], [...whole]);
});

test('append: a new head replaces the old classifier after the feature tensor', async () => {
  const g = mlp();
  const hb = new GraphBuilder('head');
  hb.input('features', 'float32', ['batch', 8]);
  const w = hb.initializer('w1', float32([8, 2], randn(16, 5)));
  hb.op('Gemm', ['features', w], {}, { outputs: ['scores'] });
  hb.output('scores', 'float32', ['batch', 2]);
  const merged = append(g, hb.graph, 'feat');
  assert.ok(merged.initializers.has('w1') && merged.initializers.has('head/w1'), 'head names are prefixed');
  assert.ok(!merged.initializers.has('w2'), 'old classifier removed');
  const x = float32([3, 4], randn(12, 7));
  const feat = await run(extract(g, ['x'], ['feat']), { x });
  const scores = await run(merged, { x });
  for (let n = 0; n < 3; n++) {
    for (let c = 0; c < 2; c++) {
      let want = 0;
      const w = hb.graph.initializers.get('w1')!.data as Float32Array;
      for (let k = 0; k < 8; k++) want += feat[n * 8 + k]! * w[k * 2 + c]!;
      assert.ok(Math.abs(scores[n * 2 + c]! - want) < 1e-5);
    }
  }
});

test('extract rejects a tensor that does not exist', () => {
  assert.throws(
    () => extract(mlp(), ['x'], ['nope']),
    (e) => isGraftError(e, 'BAD_INPUT') && /nope/.test(e.message),
  );
});
