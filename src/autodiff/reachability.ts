/**
 * Which values carry gradient: those that depend on a param through differentiable outputs (forward
 * reachability) and that the loss depends on (backward reachability). Everything else is a constant.
 */
import { getAttr, type Graph, type Node } from '../onnx/ir.js';
import { dtypeFromCode } from '../onnx/tensor-proto.js';
import { topoSort } from '../onnx/topo.js';

/** Ops whose outputs never carry gradient (shape arithmetic, comparisons, indices, random, rounding). */
const CONSTANT_OPS = new Set([
  'Shape',
  'Size',
  'Equal',
  'Less',
  'Greater',
  'LessOrEqual',
  'GreaterOrEqual',
  'And',
  'Or',
  'Not',
  'Xor',
  'ArgMax',
  'ArgMin',
  'NonZero',
  'ConstantOfShape',
  'Range',
  'EyeLike',
  'Constant',
  'OneHot',
  'IsNaN',
  'IsInf',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'RandomNormal',
  'RandomUniform',
  'RandomNormalLike',
  'RandomUniformLike',
  'Bernoulli',
  'Multinomial',
  'NonMaxSuppression',
  'BitShift',
  'BitwiseAnd',
  'BitwiseOr',
  'BitwiseXor',
  'BitwiseNot',
  'StringNormalizer',
  'TfIdfVectorizer',
  'Unique',
]);

/** Outputs that are indices, masks or running statistics. */
const NON_DIFF_OUTPUTS: Record<string, readonly number[]> = {
  MaxPool: [1],
  Dropout: [1],
  TopK: [1],
  BatchNormalization: [1, 2, 3, 4],
  LayerNormalization: [1, 2],
};

const FLOAT_TYPES = new Set(['float32', 'float64', 'float16', 'bfloat16']);

export function isDifferentiableOutput(node: Node, i: number): boolean {
  if (CONSTANT_OPS.has(node.opType)) return false;
  if (NON_DIFF_OUTPUTS[node.opType]?.includes(i)) return false;
  if (node.opType === 'Cast' || node.opType === 'CastLike') {
    if (node.opType === 'CastLike') return true;
    const to = dtypeFromCode(getAttr(node, 'to', 'int') ?? 0);
    return to !== undefined && FLOAT_TYPES.has(to);
  }
  return true;
}

export interface GradientPath {
  /** Values that depend on a param and that the loss depends on through differentiable ops. */
  onPath: Set<string>;
  /** Nodes with an output on the path, in reverse topological order (the order to apply rules). */
  nodes: Node[];
}

export function gradientPath(graph: Graph, params: readonly string[], loss: string): GradientPath {
  const order = topoSort(graph);
  const active = new Set<string>(params);
  for (const n of order) {
    if (!n.inputs.some((i) => i && active.has(i))) continue;
    n.outputs.forEach((o, i) => {
      if (o && isDifferentiableOutput(n, i)) active.add(o);
    });
  }
  const onPath = new Set<string>();
  if (active.has(loss)) onPath.add(loss);
  const nodes: Node[] = [];
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    if (!n.outputs.some((o) => o && onPath.has(o))) continue;
    nodes.push(n);
    for (const i of n.inputs) if (i && active.has(i)) onPath.add(i);
  }
  return { onPath, nodes };
}
