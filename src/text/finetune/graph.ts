/**
 * Sequence classification on a text encoder, as ONNX: the pooled output (the encoder's own `pooler_output`
 * when it has one, else the first token's state) → graft's one dense head (heads/dense.ts): linear with dropout
 * on its input (Hugging Face's classifier dropout), or with pooler 'tanh' an MLP of one tanh layer of width H —
 * BERT's Dense+Tanh pooler, new — and dropout after it. Three variants share the nodes: training (labels in,
 * loss + gradients out), inference (params as inputs) and export (params baked in).
 */
import { GraftError } from '../../errors.js';
import { GraphBuilder } from '../../onnx/builder.js';
import { cloneModel, opsetOf, type Model } from '../../onnx/ir.js';
import { append } from '../../onnx/surgery.js';
import { buildDenseHead, type DenseHeadSpec } from '../../heads/dense.js';

export type PoolerKind = 'auto' | 'tanh' | 'none';

export interface ClassifierGraphOptions {
  numClasses: number;
  /** 'auto': the encoder's `pooler_output` if present, else the first token; 'tanh': a new Dense+Tanh on it. */
  pooler: PoolerKind;
  /** Dropout before the head, training graph only. */
  dropout: number;
  hiddenOutput: string;
  hidden: number;
}

/** Prefix of the head's names in the merged graph (the same as the image backbones'). */
export const HEAD_PREFIX = 'head/';
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
  /** The head's spec (what initDenseParams takes). */
  head: DenseHeadSpec;
  /** Head parameter names (prefixed) with their shapes. */
  headParams: Map<string, number[]>;
  logits: string;
  /** The tensor the head reads (pooler_output or the first token's state), [batch, hidden]. */
  pooled: string;
}

/** The dense head a classifier graph appends for these options. */
export function classifierHead(
  o: Pick<ClassifierGraphOptions, 'pooler' | 'dropout' | 'hidden'>,
): DenseHeadSpec {
  return o.pooler === 'tanh'
    ? { kind: 'mlp', hidden: [o.hidden], activation: 'tanh', dropout: o.dropout }
    : { kind: 'linear', dropout: o.dropout };
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
  }
  const spec = classifierHead(o);
  const head = buildDenseHead(spec, {
    inputDim: H,
    numClasses: o.numClasses,
    mode: mode === 'train' ? 'train' : 'export',
    exportLogits: true,
  });
  const merged = append(g, head.graph, x, { namePrefix: HEAD_PREFIX, keepOutputNames: true });
  for (const name of [LOGITS, ...(mode === 'infer' ? [PROBABILITIES] : [])])
    if (!merged.outputs.some((v) => v.name === name))
      throw new GraftError('BAD_INPUT', `the encoder already has a tensor named '${name}'`, { tensor: name });
  const headParams = new Map(
    head.paramNames.map((p) => [`${HEAD_PREFIX}${p}`, [...head.graph.initializers.get(p)!.shape]]),
  );
  return { model: { ...model, graph: merged }, head: spec, headParams, logits: LOGITS, pooled: x };
}
