/**
 * TF.js graph model (GraphDef JSON + weight manifest) → graft IR Model (opset 17).
 *
 * Inputs stay NHWC like TensorFlow; convolutions and pooling run NCHW, with transposes inserted only where a
 * tensor changes layout. ONNX tensors are named after TF nodes (optionally with a prefix stripped); a
 * rank-4 tensor made by a conv/pool node is NCHW. Rank-4 NCHW graph outputs are transposed back to NHWC
 * and named `<name>_nhwc`.
 */
import { GraftError } from '../../errors.js';
import { createModel, type Dim, type Model } from '../../onnx/ir.js';
import type { Tensor } from '../../tensor.js';
import { decodeWeights, type ShardMap } from '../tfjs-weights.js';
import { attrShape } from './attrs.js';
import { GraphContext, unsupportedNode, type GTensor } from './context.js';
import { binary, matmul, mean, reshape, softmax, squeeze, unary } from './ops-basic.js';
import { conv, pool } from './ops-conv.js';
import { inlineConst, sortNodes } from './graph-util.js';
import type { GraphModelJson, TfNode } from './types.js';

export type { GraphModelJson, TfNode } from './types.js';

export interface GraphImportOptions {
  /** Graph name (default 'tfjs_graph'). */
  name?: string;
  /** Prefixes removed from TF node names to form ONNX tensor names (first match wins). */
  stripPrefixes?: readonly string[];
}

type OpConverter = (ctx: GraphContext, node: TfNode) => GTensor;

const OPS: Readonly<Record<string, OpConverter>> = {
  _FusedConv2D: (c, n) => conv(c, n, false, true),
  FusedDepthwiseConv2dNative: (c, n) => conv(c, n, true, true),
  Conv2D: (c, n) => conv(c, n, false, false),
  DepthwiseConv2dNative: (c, n) => conv(c, n, true, false),
  AvgPool: (c, n) => pool(c, n, 'AveragePool'),
  MaxPool: (c, n) => pool(c, n, 'MaxPool'),
  _FusedMatMul: (c, n) => matmul(c, n, true),
  MatMul: (c, n) => matmul(c, n, false),
  Squeeze: squeeze,
  Softmax: softmax,
  Mean: (c, n) => mean(c, n, 'ReduceMean'),
  Max: (c, n) => mean(c, n, 'ReduceMax'),
  Sum: (c, n) => mean(c, n, 'ReduceSum'),
  Reshape: reshape,
  ...Object.fromEntries(
    ['Identity', 'Relu', 'Relu6', 'Sigmoid', 'Tanh', 'Elu', 'Exp', 'Sqrt', 'Neg'].map((o) => [o, unary]),
  ),
  ...Object.fromEntries(
    ['Add', 'AddV2', 'BiasAdd', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum'].map((o) => [o, binary]),
  ),
};

function renamer(nodes: readonly TfNode[], prefixes: readonly string[]): (n: string) => string {
  const strip = (n: string): string => {
    const p = prefixes.find((x) => n.startsWith(x) && n.length > x.length);
    return p ? n.slice(p.length) : n;
  };
  const seen = new Map<string, number>();
  for (const n of nodes) seen.set(strip(n.name), (seen.get(strip(n.name)) ?? 0) + 1);
  return (n) => (seen.get(strip(n)) === 1 ? strip(n) : n);
}

function outputNames(json: GraphModelJson, nodes: readonly TfNode[]): string[] {
  const sig = json.signature ?? json.userDefinedMetadata?.signature;
  const fromSig = Object.entries(sig?.outputs ?? {}).map(([k, v]) => (v.name ?? k).replace(/:0$/, ''));
  if (fromSig.length > 0) return fromSig;
  const used = new Set(
    nodes.flatMap((n) => (n.input ?? []).map((r) => r.replace(/^\^/, '').replace(/:\d+$/, ''))),
  );
  return nodes
    .filter((n) => !used.has(n.name) && n.op !== 'Const' && n.op !== 'Placeholder')
    .map((n) => n.name);
}

/** Converts a graph topology with already decoded weights (by manifest name = Const node name). */
export function importGraphTopology(
  json: GraphModelJson,
  weights: ReadonlyMap<string, Tensor>,
  options: GraphImportOptions = {},
): Model {
  const nodes = json.modelTopology?.node;
  if (!Array.isArray(nodes))
    throw new GraftError('CORRUPT_MODEL', 'graph model has no modelTopology.node list');
  for (const n of nodes) {
    if (n.op !== 'Const' && n.op !== 'Placeholder' && n.op !== 'NoOp' && !OPS[n.op]) throw unsupportedNode(n);
  }
  const ctx = new GraphContext(options.name ?? 'tfjs_graph', renamer(nodes, options.stripPrefixes ?? []));
  for (const node of sortNodes(nodes)) {
    if (node.op === 'NoOp') continue;
    if (node.op === 'Const') {
      const value = weights.get(node.name) ?? inlineConst(node);
      if (!value)
        throw new GraftError('CORRUPT_MODEL', `constant '${node.name}' has no value in the manifest`, {
          node: node.name,
        });
      ctx.set(node.name, { name: ctx.onnxName(node.name), shape: value.shape, nchw: false, value });
    } else if (node.op === 'Placeholder') {
      const shape = attrShape(node);
      const dims: Dim[] | undefined = shape?.map((d, i) => (i === 0 && d === null ? 'batch' : d));
      const name = ctx.b.input(ctx.onnxName(node.name), 'float32', dims ?? []);
      ctx.set(node.name, { name, shape, nchw: false });
    } else {
      ctx.set(node.name, OPS[node.op]!(ctx, node));
    }
  }
  for (const out of outputNames(json, nodes)) {
    const t = ctx.get({ name: 'output', op: 'Output' }, out);
    const name = t.nchw
      ? ctx.b.op(
          'Transpose',
          [t.name],
          { perm: { type: 'ints', value: [0, 2, 3, 1] } },
          { outputs: [`${t.name}_nhwc`] },
        )
      : ctx.native(t);
    ctx.b.output(
      name,
      'float32',
      t.shape?.map((d, i) => (i === 0 && d === null ? 'batch' : d)),
    );
  }
  const model = createModel(ctx.b.graph, 17);
  model.producerName = 'graft (tfjs graph importer)';
  model.metadata['graft.importer'] = 'tfjs-graph';
  model.metadata['graft.layout'] = 'NCHW';
  model.metadata['graft.input_layout'] = 'NHWC';
  return model;
}

/** Converts a TF.js graph model.json and its weight shards (bytes by manifest path). */
export function importTfjsGraphModel(
  json: GraphModelJson,
  shards: ShardMap,
  options: GraphImportOptions = {},
): Model {
  const weights = decodeWeights(json.weightsManifest ?? [], shards);
  return importGraphTopology(json, weights, options);
}
