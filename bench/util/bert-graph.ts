/**
 * A BERT-style encoder written directly as an ONNX graph, for throughput benchmarks that need no PyTorch: the
 * shape of bench/peers/text_bert.py (MiniLM-L6 sized by default: 6 layers, d = 384, 12 heads, FFN 1536,
 * vocabulary 30522, post-LN, erf GELU, additive -10000 attention mask), seeded N(0, 0.02) weights and zero biases,
 * written the way an exporter writes it (MatMul then bias Add, heads by Reshape/Transpose), then the first
 * token's state as `features` [batch, d]. Random weights: good for timing, not for accuracy.
 */
import { mulberry32 } from '../../src/data/random.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { createModel, type Model } from '../../src/onnx/ir.js';
import { float32, int64 } from '../../src/tensor.js';

export interface BertShape {
  layers: number;
  hidden: number;
  heads: number;
  intermediate: number;
  vocab: number;
  maxPositions: number;
}

export const MINILM_L6: BertShape = {
  layers: 6,
  hidden: 384,
  heads: 12,
  intermediate: 1536,
  vocab: 30522,
  maxPositions: 512,
};

export const BERT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

export function bertGraph(shape: BertShape = MINILM_L6, seed = 0): Model {
  const { layers, hidden: d, heads, intermediate } = shape;
  const rng = mulberry32(seed);
  // Box–Muller normal draws, N(0, 0.02).
  const normal = (n: number): Float32Array => {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const u = Math.max(rng(), 1e-12);
      out[i] = 0.02 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
    }
    return out;
  };
  const b = new GraphBuilder('bert');
  const ids = b.input('input_ids', 'int64', ['batch', 'sequence']);
  const mask = b.input('attention_mask', 'int64', ['batch', 'sequence']);
  const types = b.input('token_type_ids', 'int64', ['batch', 'sequence']);
  const weight = (name: string, rows: number, cols: number) =>
    b.constant(name, float32([rows, cols], normal(rows * cols)));
  const vector = (name: string, n: number, value: number) =>
    b.constant(name, float32([n], new Float32Array(n).fill(value)));
  const scalarI = (name: string, v: number) => b.constant(name, int64([], [v]));
  const layerNorm = (x: string, name: string) =>
    b.op('LayerNormalization', [x, vector(`${name}_gamma`, d, 1), vector(`${name}_beta`, d, 0)], {
      axis: attr.int(-1),
      epsilon: attr.float(1e-12),
    });
  const linear = (x: string, name: string, inDim: number, outDim: number) =>
    b.op('Add', [
      b.op('MatMul', [x, weight(`${name}_w`, inDim, outDim)], {}, { name }),
      vector(`${name}_b`, outDim, 0),
    ]);

  // Embeddings: words + positions (0 … T-1) + token types, then LayerNorm.
  const seqLen = b.op('Gather', [b.op('Shape', [ids]), scalarI('one', 1)], { axis: attr.int(0) });
  const positions = b.op('Range', [scalarI('zero', 0), seqLen, scalarI('step', 1)]);
  let x = b.op('Add', [
    b.op('Add', [
      b.op('Gather', [weight('word_embeddings', shape.vocab, d), ids]),
      b.op('Gather', [weight('position_embeddings', shape.maxPositions, d), positions]),
    ]),
    b.op('Gather', [weight('token_type_embeddings', 2, d), types]),
  ]);
  x = layerNorm(x, 'embeddings_ln');
  // (1 - mask) · -10000, as [batch, 1, 1, sequence].
  const maskF = b.op('Cast', [mask], { to: attr.int(1) });
  const inverted = b.op('Sub', [b.constant('one_f', float32([], [1])), maskF]);
  const bias = b.op('Unsqueeze', [
    b.op('Mul', [inverted, b.constant('minus_big', float32([], [-10000]))]),
    b.constant('mask_axes', int64([2], [1, 2])),
  ]);
  const headShape = b.constant('head_shape', int64([4], [0, 0, heads, d / heads]));
  const mergedShape = b.constant('merged_shape', int64([3], [0, 0, d]));
  const scale = b.constant('score_scale', float32([], [1 / Math.sqrt(d / heads)]));
  const sqrt2 = b.constant('sqrt_two', float32([], [Math.SQRT2]));
  const half = b.constant('half', float32([], [0.5]));
  const oneF = b.constant('one_gelu', float32([], [1]));
  for (let l = 0; l < layers; l++) {
    const p = `layer_${l}`;
    const split = (t: string, perm: number[]) =>
      b.op('Transpose', [b.op('Reshape', [t, headShape])], { perm: attr.ints(perm) });
    const q = split(linear(x, `${p}_query`, d, d), [0, 2, 1, 3]);
    const k = split(linear(x, `${p}_key`, d, d), [0, 2, 3, 1]);
    const v = split(linear(x, `${p}_value`, d, d), [0, 2, 1, 3]);
    const scores = b.op('Add', [b.op('Mul', [b.op('MatMul', [q, k]), scale]), bias]);
    const probs = b.op('Softmax', [scores], { axis: attr.int(-1) });
    const context = b.op('Reshape', [
      b.op('Transpose', [b.op('MatMul', [probs, v])], { perm: attr.ints([0, 2, 1, 3]) }),
      mergedShape,
    ]);
    x = layerNorm(b.op('Add', [x, linear(context, `${p}_output`, d, d)]), `${p}_attention_ln`);
    const h = linear(x, `${p}_intermediate`, d, intermediate);
    // h · 0.5 · (1 + erf(h / √2)), as torch's exporter writes it.
    const erf = b.op('Erf', [b.op('Div', [h, sqrt2])]);
    const gelu = b.op('Mul', [b.op('Mul', [h, half]), b.op('Add', [erf, oneF])]);
    x = layerNorm(b.op('Add', [x, linear(gelu, `${p}_ffn_output`, intermediate, d)]), `${p}_output_ln`);
  }
  b.node('Gather', [x, b.constant('cls', int64([], [0]))], { axis: attr.int(1) }, { outputs: ['features'] });
  b.output('features', 'float32', ['batch', d]);
  return createModel(b.graph, 17);
}
