/**
 * Fused gradients for graft's own losses. A loss builder marks its final node with a docString
 * `graft:fused {json}` naming the values the fused rule needs; the builder then seeds the logits' gradient
 * directly instead of chaining the generic rules through the loss subgraph (which still works: fused=false).
 */
import type { Node } from '../onnx/ir.js';
import type { Emitter } from './emitter.js';

export const FUSED_PREFIX = 'graft:fused ';

export interface FusedInfo {
  kind: string;
  values: Record<string, string | undefined>;
}

/** Returns contributions: value name -> gradient, given the gradient g of the marked node's output. */
export type FusedRule = (
  e: Emitter,
  g: string,
  values: Record<string, string | undefined>,
) => Record<string, string>;

export function fusedDocString(kind: string, values: Record<string, string | undefined>): string {
  return FUSED_PREFIX + JSON.stringify({ kind, values });
}

export function parseFused(node: Node): FusedInfo | undefined {
  if (!node.docString?.startsWith(FUSED_PREFIX)) return undefined;
  try {
    const info = JSON.parse(node.docString.slice(FUSED_PREFIX.length)) as FusedInfo;
    return typeof info.kind === 'string' && info.values ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Softmax cross-entropy: loss = -sum(q * logsoftmax(z)) / denom, where q = class-weighted (smoothed)
 * targets. dL/dz = (softmax(z) * rowsum(q) - q) * g / denom; rowsum(q) = 1 without class weights.
 */
const softmaxCrossEntropy: FusedRule = (e, g, v) => {
  const probs = e.op('Exp', [v.logProbs!]);
  const q = v.q!;
  const scaledProbs = v.rowSumOne ? probs : e.op('Mul', [probs, e.reduceSum(q, [1], true)]);
  const scale = v.denominator ? e.op('Div', [g, v.denominator]) : g;
  return { [v.logits!]: e.op('Mul', [e.op('Sub', [scaledProbs, q]), scale]) };
};

export const fusedRules: Record<string, FusedRule> = { softmax_cross_entropy: softmaxCrossEntropy };
