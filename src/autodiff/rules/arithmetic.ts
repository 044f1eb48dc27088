/** Broadcasting arithmetic: Add, Sub, Mul, Div, Neg, Sum, Pow. */
import type { GradientRule, RuleContext } from '../types.js';
import { grad0 } from '../types.js';

function operands(ctx: RuleContext): { a: string; b: string; y: string; g: string } {
  const [a, b] = ctx.node.inputs as [string, string];
  return { a, b, y: ctx.node.outputs[0]!, g: grad0(ctx) };
}

const add: GradientRule = (ctx) => {
  const { a, b, y, g } = operands(ctx);
  return [
    ctx.needs(0) ? ctx.e.sumToShape(g, a, y) : undefined,
    ctx.needs(1) ? ctx.e.sumToShape(g, b, y) : undefined,
  ];
};

const sub: GradientRule = (ctx) => {
  const { a, b, y, g } = operands(ctx);
  const e = ctx.e;
  return [
    ctx.needs(0) ? e.sumToShape(g, a, y) : undefined,
    ctx.needs(1) ? e.sumToShape(e.op('Neg', [g]), b, y) : undefined,
  ];
};

const mul: GradientRule = (ctx) => {
  const { a, b, y, g } = operands(ctx);
  const e = ctx.e;
  return [
    ctx.needs(0) ? e.sumToShape(e.op('Mul', [g, b]), a, y) : undefined,
    ctx.needs(1) ? e.sumToShape(e.op('Mul', [g, a]), b, y) : undefined,
  ];
};

const div: GradientRule = (ctx) => {
  const { a, b, y, g } = operands(ctx);
  const e = ctx.e;
  const ga = ctx.needs(0) || ctx.needs(1) ? e.op('Div', [g, b]) : undefined;
  return [
    ctx.needs(0) ? e.sumToShape(ga!, a, y) : undefined,
    // d(a/b)/db = -(a/b)/b = -y/b  ->  -(g/b)*y
    ctx.needs(1) ? e.sumToShape(e.op('Neg', [e.op('Mul', [ga!, y])]), b, y) : undefined,
  ];
};

const neg: GradientRule = (ctx) => [ctx.e.op('Neg', [grad0(ctx)])];

/** Variadic Sum (with broadcasting). */
const sum: GradientRule = (ctx) => {
  const y = ctx.node.outputs[0]!;
  const g = grad0(ctx);
  return ctx.node.inputs.map((x, i) => (ctx.needs(i) ? ctx.e.sumToShape(g, x, y) : undefined));
};

/** Pow(x, p): dx = g * p * x^(p-1); dp = g * y * log(x). */
const pow: GradientRule = (ctx) => {
  const { a: x, b: p, y, g } = operands(ctx);
  const e = ctx.e;
  let gx: string | undefined;
  if (ctx.needs(0)) {
    const pc = ctx.constant(1);
    if (pc && pc.length === 1) {
      const k = pc[0]!;
      const xpow = k === 2 ? x : k === 1 ? undefined : e.op('Pow', [x, e.scalar(k - 1)]);
      const scaled = e.op('Mul', [g, e.scalar(k)]);
      gx = e.sumToShape(xpow ? e.op('Mul', [scaled, xpow]) : scaled, x, y);
    } else {
      const pf = e.cast(p, e.dtype);
      const xpow = e.op('Pow', [x, e.op('Sub', [pf, e.scalar(1)])]);
      gx = e.sumToShape(e.op('Mul', [g, e.op('Mul', [pf, xpow])]), x, y);
    }
  }
  const gp = ctx.needs(1)
    ? e.sumToShape(e.op('Mul', [g, e.op('Mul', [y, e.op('Log', [x])])]), p, y)
    : undefined;
  return [gx, gp];
};

export const arithmeticRules: Record<string, GradientRule> = {
  Add: add,
  Sub: sub,
  Mul: mul,
  Div: div,
  Neg: neg,
  Sum: sum,
  Pow: pow,
};
