/**
 * Sequence classification on a text encoder, as ONNX: the pooled output (the encoder's own `pooler_output`
 * when it has one, else the first token's state, optionally through a new Dense+Tanh pooler) → dropout
 * (training only) → a linear head (weight [C, H], transB, like torch's nn.Linear). Three variants share the
 * nodes: training (labels in, loss + gradients out), inference (params as inputs) and export (params baked in).
 */
import { GraftError } from '../../errors.js';
import { attr, GraphBuilder } from '../../onnx/builder.js';
import { cloneModel, opsetOf, type Model } from '../../onnx/ir.js';
import { removeDeadNodes } from '../../onnx/topo.js';
import { float32 } from '../../tensor.js';

export type PoolerKind = 'auto' | 'tanh' | 'none';

export interface ClassifierGraphOptions {
  numClasses: number;
  /** 'auto': the encoder's `pooler_output` if present, else the first token; 'tanh': a new Dense+Tanh on it. */
  pooler: PoolerKind;
  /** Dropout before the head, training graph only. */
  dropout: number;
  dropoutSeed: number;
  hiddenOutput: string;
  hidden: number;
}

export const HEAD_WEIGHT = 'classifier.weight';
export const HEAD_BIAS = 'classifier.bias';
export const POOLER_WEIGHT = 'graft_pooler.dense.weight';
export const POOLER_BIAS = 'graft_pooler.dense.bias';
export const LOGITS = 'logits';
export const PROBABILITIES = 'probabilities';
export const POOLER_OUTPUT = 'pooler_output';

/** Opsets whose semantics this pre-pass may raise to 16 (ScatterND add for embedding gradients) unchanged. */
const RAISE_BLOCKERS = new Set([
  'RoiAlign',
  'GridSample',
  'ScatterND',
  'ScatterElements',
  'If',
  'Loop',
  'Scan',
]);

/**
 * Embedding gradients need ScatterND with reduction='add' (opset 16). Hugging Face exports are often opset 14;
 * nothing a BERT-like graph uses changes meaning between 14 and 16, so the training copy is raised when safe.
 */
export function raiseOpsetForTraining(model: Model): Model {
  const v = opsetOf(model);
  if (v >= 16) return model;
  const blocker = model.graph.nodes.find((n) => RAISE_BLOCKERS.has(n.opType));
  if (v < 13 || blocker)
    throw new GraftError(
      'UNSUPPORTED_OP',
      `fine-tuning needs opset ≥ 16 for embedding gradients; this encoder is opset ${v}` +
        (blocker ? ` and uses ${blocker.opType}, so graft cannot raise it safely` : ' (< 13)') +
        '; re-export it with opset 16 or later',
      { opset: v },
    );
  return {
    ...model,
    opsetImports: model.opsetImports.map((o) =>
      o.domain === '' || o.domain === 'ai.onnx' ? { ...o, version: 16 } : o,
    ),
  };
}

/** The hidden width: the word-embedding table's second dim, else the hidden output's static last dim. */
export function hiddenSizeOf(model: Model, hiddenOutput: string): number {
  const out = model.graph.outputs.find((o) => o.name === hiddenOutput)?.shape?.at(-1);
  if (typeof out === 'number') return out;
  for (const n of model.graph.nodes) {
    if (n.opType !== 'Gather' || n.inputs[1] !== 'input_ids') continue;
    const t = model.graph.initializers.get(n.inputs[0]!);
    if (t?.shape.length === 2) return t.shape[1]!;
  }
  throw new GraftError('BAD_INPUT', `cannot tell the encoder's hidden size from '${hiddenOutput}'`);
}

export interface ClassifierGraph {
  /** Forward model: encoder + head, outputs logits (train mode: before the loss is attached). */
  model: Model;
  /** Head (and new pooler) parameter names with their shapes. */
  headParams: Map<string, number[]>;
  logits: string;
}

/** Appends the head to a copy of the encoder; `mode` 'train' keeps dropout, 'infer' adds probabilities. */
export function buildClassifierGraph(
  encoder: Model,
  o: ClassifierGraphOptions,
  mode: 'train' | 'infer',
): ClassifierGraph {
  const model = cloneModel(encoder);
  const g = model.graph;
  const b = new GraphBuilder(g);
  const H = o.hidden;
  const C = o.numClasses;
  const headParams = new Map<string, number[]>();
  const param = (name: string, shape: number[]): string => {
    headParams.set(name, shape);
    return b.initializer(name, float32(shape));
  };
  const produced = new Set(g.nodes.flatMap((n) => n.outputs));
  let x: string;
  if (o.pooler === 'auto' && produced.has(POOLER_OUTPUT)) x = POOLER_OUTPUT;
  else {
    if (!produced.has(o.hiddenOutput))
      throw new GraftError('BAD_INPUT', `the encoder has no output '${o.hiddenOutput}'`, {
        tensor: o.hiddenOutput,
      });
    const ints = (p: string, v: number[]) =>
      b.constant(p, { dtype: 'int64', shape: [v.length], data: BigInt64Array.from(v.map(BigInt)) });
    const first = b.op(
      'Slice',
      [o.hiddenOutput, ints('cls/start', [0]), ints('cls/end', [1]), ints('cls/axis', [1])],
      {},
      { name: 'cls/slice' },
    );
    x = b.op('Reshape', [first, ints('cls/shape', [-1, H])], {}, { name: 'cls/token' });
    if (o.pooler === 'tanh') {
      const dense = b.op(
        'Gemm',
        [x, param(POOLER_WEIGHT, [H, H]), param(POOLER_BIAS, [H])],
        { transB: attr.int(1) },
        { name: 'graft_pooler/dense' },
      );
      x = b.op('Tanh', [dense], {}, { name: 'graft_pooler/tanh' });
    }
  }
  if (mode === 'train' && o.dropout > 0) {
    const ratio = b.constant('classifier/dropout_ratio', float32([], [o.dropout]));
    const on = b.constant('classifier/training', { dtype: 'bool', shape: [], data: new Uint8Array([1]) });
    x = b.op('Dropout', [x, ratio, on], { seed: attr.int(o.dropoutSeed) }, { name: 'classifier/dropout' });
  }
  b.op(
    'Gemm',
    [x, param(HEAD_WEIGHT, [C, H]), param(HEAD_BIAS, [C])],
    { transB: attr.int(1) },
    { name: 'classifier', outputs: [LOGITS] },
  );
  g.outputs = [{ name: LOGITS, dtype: 'float32', shape: ['batch', C] }];
  if (mode === 'infer') {
    b.op(
      'Softmax',
      [LOGITS],
      { axis: attr.int(-1) },
      { name: 'classifier/softmax', outputs: [PROBABILITIES] },
    );
    g.outputs.unshift({ name: PROBABILITIES, dtype: 'float32', shape: ['batch', C] });
  }
  removeDeadNodes(g);
  return { model, headParams, logits: LOGITS };
}

/** HF's init for new Linear layers: weight ~ N(0, std) (Box–Muller from `uniform`), bias 0. */
export function initHeadParams(
  shapes: ReadonlyMap<string, number[]>,
  uniform: () => number,
  std = 0.02,
): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    if (shape.length > 1)
      for (let i = 0; i < n; i++) {
        const u1 = Math.max(uniform(), 1e-12);
        v[i] = std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * uniform());
      }
    out.set(name, v);
  }
  return out;
}
