/**
 * Folds inference-mode BatchNormalization into the Conv that feeds it, before differentiating:
 *   BN(Conv(x, W, c)) = Conv(x, W * k, bias + (c - mean) * k),  k = scale / sqrt(var + eps)  (per channel).
 * The running statistics must be constants; W, scale and bias may be params (the small Mul/Add on the weights
 * then carry their gradients). The activation-sized BN forward pass and its backward (Reshape, Mul, ReduceSum
 * over the whole tensor) disappear; only a per-channel bias sum remains, and when everything is frozen ONNX
 * Runtime constant-folds W * k into a plain Conv initializer. Pure rewrite: same function, same parameters.
 */
import { GraphBuilder } from '../onnx/builder.js';
import { getAttr, type Graph, type Node } from '../onnx/ir.js';
import { consumers, topoSort } from '../onnx/topo.js';
import type { Tensor } from '../tensor.js';

function isInferenceBn(node: Node, opset: number): boolean {
  if (node.opType !== 'BatchNormalization' || node.domain !== '') return false;
  if (opset >= 14) return getAttr(node, 'training_mode', 'int') !== 1;
  return node.outputs.filter((o) => o).length === 1;
}

/** A float initializer that is not fed at run time (nor trained). */
function frozenFloat(g: Graph, name: string, params: ReadonlySet<string>): Tensor | undefined {
  const t = g.initializers.get(name);
  if (!t || params.has(name) || g.inputs.some((v) => v.name === name)) return undefined;
  return t.dtype === 'float32' || t.dtype === 'float64' ? t : undefined;
}

function weightRank(g: Graph, conv: Node): number | undefined {
  const w = conv.inputs[1]!;
  const shape = g.initializers.get(w)?.shape ?? g.inputs.find((v) => v.name === w)?.shape;
  if (shape) return shape.length;
  const k = getAttr(conv, 'kernel_shape', 'ints');
  return k ? k.length + 2 : undefined;
}

/**
 * Rewrites every foldable Conv → BatchNormalization pair of `g` in place; returns how many were folded.
 * `keep` names values that must survive (the loss, extra outputs): a Conv output among them is not folded.
 */
export function foldFrozenBatchNorm(
  g: Graph,
  opset: number,
  params: ReadonlySet<string>,
  keep: ReadonlySet<string>,
): number {
  const users = consumers(g);
  const producer = new Map(g.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const outputs = new Set(g.outputs.map((v) => v.name));
  const b = new GraphBuilder(g);
  const dead = new Set<Node>();
  for (const bn of [...g.nodes]) {
    if (!isInferenceBn(bn, opset)) continue;
    const [y, scale, bias, meanName, varName] = bn.inputs as [string, string, string, string, string];
    const conv = producer.get(y);
    if (!conv || conv.opType !== 'Conv' || conv.domain !== '' || dead.has(conv)) continue;
    if ((users.get(y) ?? []).length !== 1 || outputs.has(y) || keep.has(y)) continue;
    const mean = frozenFloat(g, meanName, params);
    const variance = frozenFloat(g, varName, params);
    const rank = weightRank(g, conv);
    if (!mean || !variance || rank === undefined || mean.dtype !== variance.dtype) continue;
    const eps = getAttr(bn, 'epsilon', 'float') ?? 1e-5;
    const dtype = mean.dtype as 'float32' | 'float64';
    const make = (values: number[]): Tensor => ({
      dtype,
      shape: [values.length],
      data: dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values),
    });
    const v = Array.from(variance.data as Float32Array, (x) => 1 / Math.sqrt(x + eps));
    const m = Array.from(mean.data as Float32Array);
    const rstd = b.constant('bnfold_rstd', make(v));
    // Nodes are named after the BN/Conv they replace (name-based grouping, e.g. layer-wise LR, keeps working).
    const k = b.op('Mul', [scale, rstd], {}, { name: b.unique(`${bn.name || 'bn'}_fold_k`) });
    const shape = b.constant('bnfold_shape', {
      dtype: 'int64',
      shape: [rank],
      data: BigInt64Array.from([-1, ...Array.from({ length: rank - 1 }, () => 1)], (x) => BigInt(x)),
    });
    const k4 = b.op('Reshape', [k, shape], {}, { name: b.unique(`${bn.name || 'bn'}_fold_k4`) });
    const w = b.op('Mul', [conv.inputs[1]!, k4], {}, { name: b.unique(`${conv.name || 'conv'}_fold_w`) });
    const convBias = conv.inputs[2];
    const shift = convBias
      ? b.op(
          'Sub',
          [convBias, b.constant('bnfold_mean', make(m))],
          {},
          { name: b.unique(`${conv.name}_fold_c`) },
        )
      : b.constant('bnfold_negmean', make(m.map((x) => -x)));
    const bn2 = bn.name || 'bn';
    const shifted = b.op('Mul', [shift, k], {}, { name: b.unique(`${bn2}_fold_shift`) });
    const newBias = b.op('Add', [bias, shifted], {}, { name: b.unique(`${bn2}_fold_b`) });
    conv.inputs = [conv.inputs[0]!, w, newBias];
    conv.outputs = [bn.outputs[0]!];
    dead.add(bn);
  }
  if (dead.size === 0) return 0;
  g.nodes = g.nodes.filter((n) => !dead.has(n));
  g.nodes = topoSort(g);
  return dead.size;
}
