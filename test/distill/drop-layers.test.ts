import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dropLayers, encoderLayers, spreadLayers } from '../../src/distill/drop-layers.js';
import { isGraftError } from '../../src/errors.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { decodeModel } from '../../src/onnx/io.js';
import { cloneModel, createModel, type Model } from '../../src/onnx/ir.js';
import { Session } from '../../src/runtime/session.js';
import { float32, int64, type Tensor } from '../../src/tensor.js';
import { BERT_DIR, reference as bertReference } from '../text/helpers.js';

const D = 4;
const ROWS = 3;

/** Weights of layer i of the toy encoder, distinct per layer. */
const weight = (i: number) => Float32Array.from({ length: D * D }, (_, j) => Math.sin(7 * i + j) / 2);
const bias = (i: number) => Float32Array.from({ length: D }, (_, j) => Math.cos(3 * i + j) / 4);

/**
 * A toy encoder laid out as exported transformers are: an embedding outside the layers, a mask computed once
 * outside and read by every layer, and layers of named nodes, each
 *   h = Reshape(Relu(x·W + b) · mask, Shape(x));  out = x + h
 * the last one writing the graph output, which a head also reads.
 */
function toyEncoder(layers: number): Model {
  const b = new GraphBuilder('toy');
  b.input('x', 'float32', ['batch', D]);
  b.input('attention_mask', 'float32', ['batch', D]);
  let h = b.op('Mul', ['x', b.constant('two', float32([], [2]))], {}, { name: '/emb/Mul' });
  const mask = b.op('Mul', ['attention_mask', b.constant('one', float32([], [1]))], {}, { name: '/Mul' });
  for (let i = 0; i < layers; i++) {
    const w = b.initializer(`layers.${i}.w`, float32([D, D], weight(i)));
    const bi = b.initializer(`layers.${i}.b`, float32([D], bias(i)));
    const p = `/layers.${i}/`;
    const mm = b.op('MatMul', [h, w], {}, { name: `${p}MatMul` });
    const r = b.op('Relu', [b.op('Add', [mm, bi], {}, { name: `${p}Add` })], {}, { name: `${p}Relu` });
    const masked = b.op('Mul', [r, mask], {}, { name: `${p}Mul` });
    const shaped = b.op(
      'Reshape',
      [masked, b.op('Shape', [h], {}, { name: `${p}Shape` })],
      {},
      { name: `${p}Reshape` },
    );
    const last = i === layers - 1;
    h = b.node(
      'Add',
      [h, shaped],
      {},
      { name: `${p}Add_1`, ...(last ? { outputs: ['last_hidden_state'] } : {}) },
    )[0]!;
  }
  b.output('last_hidden_state', 'float32', ['batch', D]);
  const head = b.initializer(
    'head.w',
    float32(
      [D, 2],
      Float32Array.from({ length: 2 * D }, (_, j) => j / 8 - 0.4),
    ),
  );
  b.node('MatMul', ['last_hidden_state', head], {}, { name: '/head/MatMul', outputs: ['logits'] });
  b.output('logits', 'float32', ['batch', 2]);
  return createModel(b.graph, 14);
}

const X = Float32Array.from({ length: ROWS * D }, (_, i) => Math.sin(i + 1));
const MASK = Float32Array.from({ length: ROWS * D }, (_, i) => (i % 5 === 4 ? 0 : 1));

/** The toy encoder through the listed layers (teacher indexes), computed directly. */
function direct(layers: readonly number[]): Float32Array {
  let h = X.map((v) => 2 * v);
  for (const i of layers) {
    const w = weight(i);
    const bi = bias(i);
    const next = new Float32Array(ROWS * D);
    for (let r = 0; r < ROWS; r++)
      for (let c = 0; c < D; c++) {
        let s = bi[c]!;
        for (let k = 0; k < D; k++) s += h[r * D + k]! * w[k * D + c]!;
        next[r * D + c] = h[r * D + c]! + Math.max(0, s) * MASK[r * D + c]!;
      }
    h = next;
  }
  return h;
}

async function run(model: Model, feeds: Record<string, Tensor>, outputs: string[]): Promise<Float32Array[]> {
  const s = await Session.create(model, { threads: 1 });
  try {
    const out = await s.run(feeds, outputs);
    return outputs.map((o) => out[o]!.data as Float32Array);
  } finally {
    await s.release();
  }
}

const toyFeeds = { x: float32([ROWS, D], X), attention_mask: float32([ROWS, D], MASK) };

function assertClose(a: Float32Array, b: Float32Array, tol: number): void {
  assert.equal(a.length, b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  assert.ok(worst <= tol, `max difference ${worst} > ${tol}`);
}

describe('encoder layers', () => {
  it('finds each layer of a plain stack, the tensor it reads and the one it hands on', () => {
    const layers = encoderLayers(toyEncoder(3));
    assert.equal(layers.length, 3);
    assert.equal(layers[0]!.input, '/emb/Mul_out');
    assert.equal(layers[0]!.output, '/layers.0/Add_1_out');
    assert.equal(layers[1]!.input, '/layers.0/Add_1_out');
    assert.equal(layers[2]!.output, 'last_hidden_state');
  });

  it('keeping every layer leaves the computation exactly as it was', async () => {
    const teacher = toyEncoder(3);
    const student = dropLayers(teacher, [0, 1, 2]);
    const [a, b] = await Promise.all([
      run(teacher, toyFeeds, ['last_hidden_state', 'logits']),
      run(student, toyFeeds, ['last_hidden_state', 'logits']),
    ]);
    assert.deepEqual(b, a);
    assertClose(a[0]!, direct([0, 1, 2]), 1e-5);
  });

  it('a student of layers 0 and 2 computes those two layers, renumbered 0 and 1', async () => {
    const student = dropLayers(toyEncoder(3), [0, 2]);
    const [h] = await run(student, toyFeeds, ['last_hidden_state']);
    assertClose(h!, direct([0, 2]), 1e-5);
    assert.deepEqual([...student.graph.initializers.keys()].filter((k) => k.startsWith('layers.')).sort(), [
      'layers.0.b',
      'layers.0.w',
      'layers.1.b',
      'layers.1.w',
    ]);
    assert.deepEqual(student.graph.initializers.get('layers.1.w')!.data, weight(2));
    assert.ok(student.graph.nodes.every((n) => !n.name.startsWith('/layers.2/')));
    assert.equal(encoderLayers(student).length, 2);
  });

  it('dropping layer 0 feeds layer 1 what layer 0 read (not the mask)', async () => {
    const [h] = await run(dropLayers(toyEncoder(3), [1, 2]), toyFeeds, ['last_hidden_state']);
    assertClose(h!, direct([1, 2]), 1e-5);
  });

  it('dropping the last layer keeps the output name, and the head reads the new last layer', async () => {
    const student = dropLayers(toyEncoder(3), [0]);
    const [h, logits] = await run(student, toyFeeds, ['last_hidden_state', 'logits']);
    assertClose(h!, direct([0]), 1e-5);
    assert.equal(logits!.length, ROWS * 2);
  });

  it('refuses layer lists it cannot honour and graphs that are not a plain stack', () => {
    const toy = toyEncoder(3);
    for (const keep of [[], [3], [-1], [0.5]])
      assert.throws(
        () => dropLayers(toy, keep),
        (e) => isGraftError(e, 'BAD_OPTION'),
        `keep ${keep}`,
      );
    const tangled = cloneModel(toy);
    // Layer 1 also reads an inner tensor of layer 0.
    tangled.graph.nodes.find((n) => n.name === '/layers.1/Mul')!.inputs[1] = '/layers.0/Relu_out';
    assert.throws(
      () => encoderLayers(tangled),
      (e) => isGraftError(e, 'BAD_INPUT') && /not one residual|plain stack/.test(e.message),
    );
  });

  it('spreads the kept layers as DistilBERT did (12 → 6: 0 2 4 7 9 11)', () => {
    assert.deepEqual(spreadLayers(12, 6), [0, 2, 4, 7, 9, 11]);
    assert.deepEqual(spreadLayers(6, 3), [0, 3, 5]);
    assert.deepEqual(spreadLayers(6, 6), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(spreadLayers(6, 1), [5]);
    assert.throws(
      () => spreadLayers(6, 7),
      (e) => isGraftError(e, 'BAD_OPTION'),
    );
  });
});

describe('dropping layers of the exported tiny BERT', async () => {
  const bert = decodeModel(await readFile(join(BERT_DIR, 'onnx', 'model.onnx')));
  const ids = bertReference.sentences[0]!.ids;
  const feeds = {
    input_ids: int64([1, ids.length], ids),
    attention_mask: int64(
      [1, ids.length],
      ids.map(() => 1),
    ),
    token_type_ids: int64(
      [1, ids.length],
      ids.map(() => 0),
    ),
  };
  // Names read off the exported graph by hand: the embeddings' LayerNorm output and layer 0's last LayerNorm.
  const EMBEDDED = '/ln/Add_1_output_0';
  const LAYER0_OUT = '/layers.0/ln2/Add_1_output_0';

  it('2 → 2 equals the teacher exactly', async () => {
    const [a] = await run(bert, feeds, ['last_hidden_state']);
    const [b] = await run(dropLayers(bert, [0, 1]), feeds, ['last_hidden_state']);
    assert.deepEqual(b, a);
  });

  it('keeping layer 0 gives the teacher’s own layer-0 output', async () => {
    const probe = cloneModel(bert);
    probe.graph.outputs.push({ name: LAYER0_OUT, dtype: 'float32' });
    const [want] = await run(probe, feeds, [LAYER0_OUT]);
    const [got] = await run(dropLayers(bert, [0]), feeds, ['last_hidden_state']);
    assert.deepEqual(got, want);
  });

  it('keeping layer 1 equals the teacher with layer 1 rewired by hand to read the embeddings', async () => {
    const byHand = cloneModel(bert);
    for (const n of byHand.graph.nodes) n.inputs = n.inputs.map((i) => (i === LAYER0_OUT ? EMBEDDED : i));
    const [want] = await run(byHand, feeds, ['last_hidden_state']);
    const student = dropLayers(bert, [1]);
    const [got] = await run(student, feeds, ['last_hidden_state']);
    assert.deepEqual(got, want);
    assert.ok(student.graph.initializers.has('layers.0.q.bias'));
    assert.ok(!student.graph.initializers.has('layers.1.q.bias'));
  });
});
