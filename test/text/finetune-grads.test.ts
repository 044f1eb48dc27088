/** Gradients of the tiny BERT + pooler + head against torch (float64 reference, make_bert_grads.py). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeModel } from '../../src/onnx/io.js';
import type { Tensor } from '../../src/tensor.js';
import { SequenceClassifier } from '../../src/text/finetune/index.js';
import { BERT_DIR } from './helpers.js';

interface GradFixture {
  labels: number[];
  num_classes: number;
  input_ids: number[][];
  attention_mask: number[][];
  loss: number;
  logits: number[];
  initializers: Record<string, { rows?: number[]; grad: number[] }>;
  matmul_weights: Record<string, number[]>;
  head: Record<string, number[]>;
}

const fx = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/bert/bert_grads.json', import.meta.url)), 'utf8'),
) as GradFixture;

/** max |a - b| / max |b|: the error relative to the tensor's scale. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

const H = 64;
/** The torch modules' parameter names → graft's dense head (the same [out, in] layout). */
const HEAD_NAMES: Record<string, string> = {
  'graft_pooler.dense.weight': 'head/dense0/weight',
  'graft_pooler.dense.bias': 'head/dense0/bias',
  'classifier.weight': 'head/dense1/weight',
  'classifier.bias': 'head/dense1/bias',
};
const formula = (rows: number, cols: number, f: (i: number, j: number) => number) =>
  Float32Array.from({ length: rows * cols }, (_, k) => f(Math.floor(k / cols), k % cols));

function int64(rows: number[][]): Tensor<'int64'> {
  return {
    dtype: 'int64',
    shape: [rows.length, rows[0]!.length],
    data: BigInt64Array.from(rows.flat(), BigInt),
  };
}

describe('BERT fine-tuning gradients vs torch', () => {
  test('loss, logits and gradients of embeddings, LayerNorm, attention, pooler and head agree ≤ 1e-4', async () => {
    const encoder = decodeModel(await readFile(join(BERT_DIR, 'onnx', 'model.onnx')));
    const initialParams = new Map([
      [
        HEAD_NAMES['graft_pooler.dense.weight']!,
        formula(H, H, (i, j) => 0.1 * Math.sin(0.37 * i + 0.11 * j + 0.5)),
      ],
      [HEAD_NAMES['graft_pooler.dense.bias']!, formula(1, H, (_, j) => 0.01 * Math.cos(j))],
      [HEAD_NAMES['classifier.weight']!, formula(3, H, (c, j) => 0.2 * Math.sin(1.3 * c + 0.07 * j))],
      [HEAD_NAMES['classifier.bias']!, Float32Array.of(0.1, -0.05, 0)],
    ]);
    const model = await SequenceClassifier.create(encoder, {
      numClasses: fx.num_classes,
      pooler: 'tanh',
      dropout: 0,
      unfreeze: 'all',
      initialParams,
      session: { threads: 2 },
    });
    const ids = int64(fx.input_ids);
    const inputs = {
      input_ids: ids,
      attention_mask: int64(fx.attention_mask),
      token_type_ids: { ...ids, data: new BigInt64Array(ids.data.length) },
    };
    const { logits } = await model.forward(inputs);
    assert.ok(relErr(logits, fx.logits) < 1e-5, `logits ${relErr(logits, fx.logits)}`);
    const { loss, gradients } = await model.computeGradients({ inputs, labels: Int32Array.from(fx.labels) });
    assert.ok(Math.abs(loss - fx.loss) < 1e-5 * fx.loss, `loss ${loss} vs ${fx.loss}`);

    const errors: Record<string, number> = {};
    for (const [name, ref] of Object.entries(fx.initializers)) {
      const g = gradients.get(name);
      assert.ok(g, `no gradient for ${name}`);
      if (ref.rows) {
        const got = ref.rows.flatMap((r) => Array.from(g.subarray(r * H, (r + 1) * H)));
        errors[name] = relErr(got, ref.grad);
        // rows of tokens not in the batch get exactly zero
        const used = new Set(ref.rows);
        for (let r = 0; r < g.length / H; r++)
          if (!used.has(r))
            assert.ok(
              g.subarray(r * H, (r + 1) * H).every((v) => v === 0),
              `row ${r}`,
            );
      } else errors[name] = relErr(g, ref.grad);
    }
    for (const [nodeName, ref] of Object.entries(fx.matmul_weights)) {
      const node = encoder.graph.nodes.find((n) => n.name === nodeName);
      assert.ok(node, nodeName);
      errors[nodeName] = relErr(gradients.get(node.inputs[1]!)!, ref);
    }
    for (const [name, ref] of Object.entries(fx.head))
      errors[name] = relErr(gradients.get(HEAD_NAMES[name]!)!, ref);
    for (const [name, err] of Object.entries(errors))
      assert.ok(err <= 1e-4, `${name}: relative error ${err}`);
    assert.equal(Object.keys(errors).length, 10);
    console.log('max relative gradient error', Math.max(...Object.values(errors)).toExponential(2));
    await model.release();
  });
});
