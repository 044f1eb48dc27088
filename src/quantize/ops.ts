/**
 * Which ops are quantized and how, following ONNX Runtime's QDQ quantizer and the QDQ patterns its CPU
 * execution provider fuses into integer kernels:
 *   DQ → Conv → Q            QLinearConv          (weight per output channel: axis 0; bias int32)
 *   DQ → Gemm → Q            QGemm                (weight axis 0 with transB, else 1)
 *   DQ → MatMul → Q          QLinearMatMul / MatMulIntegerToFloat (constant weight: axis 1)
 *   DQ → Add/Mul → Q         QLinearAdd / QLinearMul
 *   DQ → (Global)AveragePool → Q, DQ → Concat → Q    QLinear(Global)AveragePool, QLinearConcat
 *   DQ → MaxPool/Reshape/Transpose/… → Q   the op itself on int8 (its Q must repeat the DQ's scale/zero point,
 *                                          so these ops share their input's parameters)
 * Relu and Clip(min 0) after a quantized op are dropped: quantization to a range starting at 0 saturates the
 * same way (ONNX Runtime's quantizer removes them too).
 */
import { getAttr, type Graph, type Node } from '../onnx/ir.js';

export interface WeightSlot {
  /** Input index of the constant weight. */
  input: number;
  /** Output-channel axis of the weight (per-channel quantization). */
  axis: number;
  /** Input index of the bias, quantized to int32 when present. */
  bias?: number;
}

export interface OpPolicy {
  /** Activation inputs quantized (indices). */
  activations: (node: Node, g: Graph) => number[];
  weight?: (node: Node, g: Graph) => WeightSlot | undefined;
  /** The output keeps the input's scale and zero point (ops that run on int8 data unchanged). */
  sharesInputParams?: boolean;
}

const first = (): number[] => [0];
const allInputs = (n: Node): number[] => n.inputs.map((_, i) => i).filter((i) => n.inputs[i] !== '');
/** Inputs that are not initializers (an initializer operand of Add/Mul would need its own constant Q). */
const nonConstant = (n: Node, g: Graph): number[] =>
  allInputs(n).filter((i) => !g.initializers.has(n.inputs[i]!));

function constWeight(g: Graph, name: string | undefined, rank: number): boolean {
  const t = name ? g.initializers.get(name) : undefined;
  return !!t && t.dtype === 'float32' && t.shape.length === rank;
}

export const OP_POLICIES: Readonly<Record<string, OpPolicy>> = {
  Conv: {
    activations: first,
    weight: (n, g) => {
      const w = g.initializers.get(n.inputs[1]!);
      if (!w || w.dtype !== 'float32') return undefined;
      return { input: 1, axis: 0, ...(n.inputs[2] ? { bias: 2 } : {}) };
    },
  },
  Gemm: {
    activations: first,
    weight: (n, g) => {
      if (!constWeight(g, n.inputs[1], 2) || getAttr(n, 'transA', 'int') === 1) return undefined;
      const axis = getAttr(n, 'transB', 'int') === 1 ? 0 : 1;
      const c = n.inputs[2] ? g.initializers.get(n.inputs[2]) : undefined;
      const alphaBeta = (getAttr(n, 'alpha', 'float') ?? 1) === 1 && (getAttr(n, 'beta', 'float') ?? 1) === 1;
      const biasOk = !!c && c.shape.length === 1 && alphaBeta;
      return { input: 1, axis, ...(biasOk ? { bias: 2 } : {}) };
    },
  },
  MatMul: {
    activations: (n, g) => nonConstant(n, g),
    weight: (n, g) => (constWeight(g, n.inputs[1], 2) ? { input: 1, axis: 1 } : undefined),
  },
  Add: { activations: (n, g) => (nonConstant(n, g).length === 2 ? [0, 1] : []) },
  Mul: { activations: (n, g) => (nonConstant(n, g).length === 2 ? [0, 1] : []) },
  Concat: { activations: allInputs },
  AveragePool: { activations: first },
  GlobalAveragePool: { activations: first },
  MaxPool: { activations: first, sharesInputParams: true },
  Reshape: { activations: first, sharesInputParams: true },
  Flatten: { activations: first, sharesInputParams: true },
  Transpose: { activations: first, sharesInputParams: true },
  Squeeze: { activations: first, sharesInputParams: true },
  Unsqueeze: { activations: first, sharesInputParams: true },
};

/** The op's policy when graft quantizes it (default ONNX domain only). */
export function policyOf(node: Node): OpPolicy | undefined {
  return node.domain === '' || node.domain === 'ai.onnx' ? OP_POLICIES[node.opType] : undefined;
}

/** Whether `node` is a Relu or a Clip whose lower bound is 0 (the activations quantization can absorb). */
export function isZeroFloorActivation(node: Node, g: Graph): boolean {
  if (node.domain !== '') return false;
  if (node.opType === 'Relu') return true;
  if (node.opType !== 'Clip') return false;
  const minName = node.inputs[1];
  if (minName === undefined || minName === '') {
    const attrMin = getAttr(node, 'min', 'float');
    return attrMin === 0;
  }
  const t = g.initializers.get(minName);
  return !!t && t.dtype === 'float32' && (t.data as Float32Array)[0] === 0;
}
