/** Matrix products: Gemm (transA/transB/alpha/beta, broadcast C) and MatMul (1-D, 2-D, batched). */
import { attr } from '../../onnx/builder.js';
import { getAttr, type Attribute } from '../../onnx/ir.js';
import type { Emitter } from '../emitter.js';
import type { GradientRule } from '../types.js';
import { grad0 } from '../types.js';

function gemm(e: Emitter, a: string, b: string, ta: boolean, tb: boolean, alpha: number): string {
  const attrs: Record<string, Attribute> = {};
  if (ta) attrs.transA = attr.int(1);
  if (tb) attrs.transB = attr.int(1);
  if (alpha !== 1) attrs.alpha = attr.float(alpha);
  return e.op('Gemm', [a, b], attrs);
}

/** Y = alpha * A' B' + beta * C, with A' = transA ? A^T : A and B' likewise. */
const gemmRule: GradientRule = (ctx) => {
  const n = ctx.node;
  const e = ctx.e;
  const g = grad0(ctx);
  const [a, b, c] = n.inputs as [string, string, string | undefined];
  const ta = getAttr(n, 'transA', 'int') === 1;
  const tb = getAttr(n, 'transB', 'int') === 1;
  const alpha = getAttr(n, 'alpha', 'float') ?? 1;
  const beta = getAttr(n, 'beta', 'float') ?? 1;
  // dA' = alpha g B'^T ; dB' = alpha A'^T g ; transposed back when the operand was transposed.
  const da = !ctx.needs(0)
    ? undefined
    : ta
      ? gemm(e, b, g, tb, true, alpha)
      : gemm(e, g, b, false, !tb, alpha);
  const db = !ctx.needs(1)
    ? undefined
    : tb
      ? gemm(e, g, a, true, ta, alpha)
      : gemm(e, a, g, !ta, false, alpha);
  let dc: string | undefined;
  if (c && ctx.needs(2)) {
    const scaled = beta === 1 ? g : e.op('Mul', [g, e.scalar(beta)]);
    dc = e.sumToShape(scaled, c, n.outputs[0]!);
  }
  return [da, db, dc];
};

/** Swaps the last two axes of a value of rank r >= 2. */
function swapLast(e: Emitter, x: string, r: number): string {
  if (r === 2) return e.op('Transpose', [x], { perm: attr.ints([1, 0]) });
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return e.op('Transpose', [x], { perm: attr.ints(perm) });
}

/** Sums a batched product over the batch axes that `x` broadcast along (none when the other operand is 2-D). */
function batchReduce(e: Emitter, prod: string, x: string, rx: number, other: string, ro: number): string {
  if (ro <= 2 && rx >= 2) return prod;
  const xs = e.shapes.shape(x);
  const os = e.shapes.shape(other);
  if (xs && os && rx === ro && xs.slice(0, -2).every((d, i) => d !== null && (d === os[i] || os[i] === 1))) {
    return prod;
  }
  return e.sumToShape(prod, x, prod);
}

/**
 * Y = A @ B with numpy semantics. 1-D operands are promoted (A -> [1,K], B -> [K,1]) and the gradient
 * unsqueezed to match; batch broadcasting is undone by summing. The common "N-D activations times 2-D
 * weight" case computes dB as one Gemm over flattened rows instead of a batched product + reduction.
 */
const matmul: GradientRule = (ctx) => {
  const e = ctx.e;
  const n = ctx.node;
  const [a, b] = n.inputs as [string, string];
  const ra = e.requireRank(a, `MatMul '${n.name}'`);
  const rb = e.requireRank(b, `MatMul '${n.name}'`);
  let g = grad0(ctx);
  const a2 = ra === 1 ? e.unsqueeze(a, [0]) : a;
  const b2 = rb === 1 ? e.unsqueeze(b, [1]) : b;
  if (rb === 1) g = e.unsqueeze(g, [-1]);
  if (ra === 1) g = e.unsqueeze(g, [-2]);
  const ra2 = Math.max(ra, 2);
  const rb2 = Math.max(rb, 2);
  const rg = Math.max(ra2, rb2);
  let da: string | undefined;
  let db: string | undefined;
  if (ctx.needs(0)) {
    const prod = rg === 2 ? gemm(e, g, b2, false, true, 1) : e.op('MatMul', [g, swapLast(e, b2, rb2)]);
    da = batchReduce(e, prod, a2, ra2, b2, rb2);
    if (ra === 1) da = e.reshapeLike(da, a);
  }
  if (ctx.needs(1)) {
    let prod: string;
    if (rb2 === 2) {
      const af = ra2 === 2 ? a2 : e.op('Flatten', [a2], { axis: attr.int(ra2 - 1) });
      const gf = rg === 2 ? g : e.op('Flatten', [g], { axis: attr.int(rg - 1) });
      prod = gemm(e, af, gf, true, false, 1);
    } else {
      prod = batchReduce(e, e.op('MatMul', [swapLast(e, a2, ra2), g]), b2, rb2, a2, ra2);
    }
    db = rb === 1 ? e.reshapeLike(prod, b) : prod;
  }
  return [da, db];
};

export const linalgRules: Record<string, GradientRule> = { Gemm: gemmRule, MatMul: matmul };
