/** Pointwise activations: Relu, LeakyRelu, Sigmoid, Tanh, Exp, Log, Sqrt, Clip, Erf, Gelu, Hard*. */
import { getAttr } from '../../onnx/ir.js';
import type { Emitter } from '../emitter.js';
import type { GradientRule, RuleContext } from '../types.js';
import { grad0 } from '../types.js';

function io(ctx: RuleContext): { x: string; y: string; g: string; e: Emitter } {
  return { x: ctx.node.inputs[0]!, y: ctx.node.outputs[0]!, g: grad0(ctx), e: ctx.e };
}

const relu: GradientRule = (ctx) => {
  const { y, g, e } = io(ctx);
  const zero = e.scalar(0);
  return [e.op('Where', [e.op('Greater', [y, zero]), g, zero])];
};

const leakyRelu: GradientRule = (ctx) => {
  const { x, g, e } = io(ctx);
  const alpha = getAttr(ctx.node, 'alpha', 'float') ?? 0.01;
  const neg = e.op('Mul', [g, e.scalar(alpha)]);
  return [e.op('Where', [e.op('Greater', [x, e.scalar(0)]), g, neg])];
};

const sigmoid: GradientRule = (ctx) => {
  const { y, g, e } = io(ctx);
  return [e.op('Mul', [g, e.op('Mul', [y, e.op('Sub', [e.scalar(1), y])])])];
};

const tanh: GradientRule = (ctx) => {
  const { y, g, e } = io(ctx);
  return [e.op('Mul', [g, e.op('Sub', [e.scalar(1), e.op('Mul', [y, y])])])];
};

const exp: GradientRule = (ctx) => {
  const { y, g, e } = io(ctx);
  return [e.op('Mul', [g, y])];
};

const log: GradientRule = (ctx) => {
  const { x, g, e } = io(ctx);
  return [e.op('Div', [g, x])];
};

const sqrt: GradientRule = (ctx) => {
  const { y, g, e } = io(ctx);
  return [e.op('Div', [e.op('Mul', [g, e.scalar(0.5)]), y])];
};

/**
 * Clip(x, min, max): gradient passes where min < y < max, read from the output y (as torch's hardtanh/ReLU6
 * backward; the bounds themselves are measure-zero). Reading y, not x, leaves x single-use so ONNX Runtime can
 * fuse Conv + Clip, and one Cast(And) mask times g is cheaper than Where(Or(...)) with a broadcast scalar.
 */
const clip: GradientRule = (ctx) => {
  const { y, g, e } = io(ctx);
  const n = ctx.node;
  const bound = (i: number, attrName: string): string | undefined => {
    if (n.inputs[i]) return n.inputs[i]!;
    const v = getAttr(n, attrName, 'float');
    return v === undefined ? undefined : e.scalar(v);
  };
  const lo = bound(1, 'min');
  const hi = bound(2, 'max');
  const inside = [lo && e.op('Greater', [y, lo]), hi && e.op('Less', [y, hi])].filter(
    (s): s is string => !!s,
  );
  if (inside.length === 0) return [g];
  const mask = inside.length === 2 ? e.op('And', inside) : inside[0]!;
  return [e.op('Mul', [g, e.cast(mask, e.dtype)]), undefined, undefined];
};

/** d erf(x) = 2/sqrt(pi) exp(-x^2). */
function erfPrime(e: Emitter, x: string): string {
  return e.op('Mul', [e.scalar(2 / Math.sqrt(Math.PI)), e.op('Exp', [e.op('Neg', [e.op('Mul', [x, x])])])]);
}

const erf: GradientRule = (ctx) => {
  const { x, g, e } = io(ctx);
  return [e.op('Mul', [g, erfPrime(e, x)])];
};

/** Gelu (opset 20): exact Phi(x) + x phi(x), or the tanh approximation's derivative. */
const gelu: GradientRule = (ctx) => {
  const { x, g, e } = io(ctx);
  return [geluGradient(e, x, g, getAttr(ctx.node, 'approximate', 'string') === 'tanh')];
};

/** g · GELU'(x), recomputed from x alone (exact, or the tanh approximation's). */
export function geluGradient(e: Emitter, x: string, g: string, tanhApproximation = false): string {
  const mul = (a: string, b: string): string => e.op('Mul', [a, b]);
  const add = (a: string, b: string): string => e.op('Add', [a, b]);
  if (tanhApproximation) {
    // y = 0.5 x (1 + tanh(u)), u = c (x + 0.044715 x^3)
    const c = Math.sqrt(2 / Math.PI);
    const x2 = mul(x, x);
    const u = mul(e.scalar(c), add(x, mul(e.scalar(0.044715), mul(x2, x))));
    const t = e.op('Tanh', [u]);
    const du = mul(e.scalar(c), add(e.scalar(1), mul(e.scalar(3 * 0.044715), x2)));
    const sech2 = e.op('Sub', [e.scalar(1), mul(t, t)]);
    const d = add(mul(e.scalar(0.5), add(e.scalar(1), t)), mul(mul(e.scalar(0.5), x), mul(sech2, du)));
    return mul(g, d);
  }
  const cdf = mul(e.scalar(0.5), add(e.scalar(1), e.op('Erf', [mul(x, e.scalar(Math.SQRT1_2))])));
  const pdf = mul(e.scalar(1 / Math.sqrt(2 * Math.PI)), e.op('Exp', [mul(e.scalar(-0.5), mul(x, x))]));
  return mul(g, add(cdf, mul(x, pdf)));
}

/** HardSigmoid: y = max(0, min(1, alpha x + beta)); dy = alpha inside (0, 1). */
const hardSigmoid: GradientRule = (ctx) => {
  const { x, g, e } = io(ctx);
  const alpha = getAttr(ctx.node, 'alpha', 'float') ?? 0.2;
  const beta = getAttr(ctx.node, 'beta', 'float') ?? 0.5;
  const z = e.op('Add', [e.op('Mul', [x, e.scalar(alpha)]), e.scalar(beta)]);
  const inside = e.op('And', [e.op('Greater', [z, e.scalar(0)]), e.op('Less', [z, e.scalar(1)])]);
  return [e.op('Where', [inside, e.op('Mul', [g, e.scalar(alpha)]), e.scalar(0)])];
};

/** HardSwish: y = x * hardsigmoid(x; 1/6, 1/2); dy = 0 (x < -3), x/3 + 1/2 (x <= 3), 1. */
const hardSwish: GradientRule = (ctx) => {
  const { x, g, e } = io(ctx);
  const mid = e.op('Add', [e.op('Mul', [x, e.scalar(1 / 3)]), e.scalar(0.5)]);
  const upper = e.op('Where', [e.op('Greater', [x, e.scalar(3)]), e.scalar(1), mid]);
  const d = e.op('Where', [e.op('Less', [x, e.scalar(-3)]), e.scalar(0), upper]);
  return [e.op('Mul', [g, d])];
};

export const activationRules: Record<string, GradientRule> = {
  Relu: relu,
  LeakyRelu: leakyRelu,
  Sigmoid: sigmoid,
  Tanh: tanh,
  Exp: exp,
  Log: log,
  Sqrt: sqrt,
  Clip: clip,
  Erf: erf,
  Gelu: gelu,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
};
