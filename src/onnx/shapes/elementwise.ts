/** Element-wise ops: unary, broadcasting binary/variadic, comparisons, Where, Cast; folds small constants. */
import { dtypeFromCode } from '../tensor-proto.js';
import type { Dim, Node } from '../ir.js';
import {
  attrInt,
  broadcast,
  isNum,
  same,
  withValue,
  type InferContext,
  type ShapeRule,
  type TypeInfo,
} from './common.js';

const UNARY = [
  'Relu',
  'LeakyRelu',
  'Sigmoid',
  'Tanh',
  'HardSigmoid',
  'HardSwish',
  'Erf',
  'Gelu',
  'Softmax',
  'LogSoftmax',
  'Sqrt',
  'Exp',
  'Log',
  'Abs',
  'Floor',
  'Ceil',
  'Round',
  'Reciprocal',
  'Sign',
  'Sin',
  'Cos',
  'Softplus',
  'Softsign',
  'Elu',
  'Selu',
  'Celu',
  'Mish',
  'ThresholdedRelu',
  'Shrink',
  'Hardmax',
  'Not',
  'LRN',
  'InstanceNormalization',
  'MeanVarianceNormalization',
];

type Fold = (a: number, b: number) => number;

const BINARY: Record<string, Fold | undefined> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => (Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b),
  Pow: (a, b) => a ** b,
  Mod: undefined,
  PRelu: undefined,
  BitShift: undefined,
};

const COMPARE: Record<string, Fold | undefined> = {
  Equal: (a, b) => Number(a === b),
  Less: (a, b) => Number(a < b),
  LessOrEqual: (a, b) => Number(a <= b),
  Greater: (a, b) => Number(a > b),
  GreaterOrEqual: (a, b) => Number(a >= b),
  And: (a, b) => Number(a !== 0 && b !== 0),
  Or: (a, b) => Number(a !== 0 || b !== 0),
  Xor: (a, b) => Number((a !== 0) !== (b !== 0)),
};

/** Folds an element-wise op over known contents when every operand is a scalar or has the output's size. */
function fold(infos: (TypeInfo | undefined)[], f: (xs: Dim[]) => Dim): Dim[] | undefined {
  const values = infos.map((i) => i?.value);
  if (values.some((v) => v === undefined)) return undefined;
  const vs = values as Dim[][];
  const n = Math.max(...vs.map((v) => v.length));
  if (vs.some((v) => v.length !== 1 && v.length !== n)) return undefined;
  return Array.from({ length: n }, (_, i) => f(vs.map((v) => (v.length === 1 ? v[0]! : v[i]!))));
}

const numeric =
  (op: Fold) =>
  (xs: Dim[]): Dim =>
    xs.every(isNum) ? op(xs[0] as number, xs[1] as number) : null;

function binary(
  node: Node,
  ctx: InferContext,
  op: Fold | undefined,
  bool: boolean,
): (TypeInfo | undefined)[] {
  const infos = node.inputs.map((i) => ctx.info(i));
  const shape = broadcast(infos.map((i) => i?.shape));
  const dtype = bool ? 'bool' : infos[0]?.dtype;
  let value: Dim[] | undefined;
  if (op && infos.length === 2) {
    // Symbolic dims survive multiplication by one and addition of zero (shape arithmetic in exporters).
    value = fold(infos, (xs) => {
      const [a, b] = xs;
      if (node.opType === 'Mul' && (a === 1 || b === 1)) return a === 1 ? b! : a!;
      if ((node.opType === 'Add' || node.opType === 'Sub') && b === 0) return a!;
      if (node.opType === 'Equal' && !isNum(a) && a === b && a !== null) return 1;
      return numeric(op)(xs);
    });
  }
  return [withValue({ dtype, shape }, value)];
}

function variadic(node: Node, ctx: InferContext): (TypeInfo | undefined)[] {
  const infos = node.inputs.map((i) => ctx.info(i));
  const f = node.opType === 'Max' ? Math.max : node.opType === 'Min' ? Math.min : undefined;
  const value = f ? fold(infos, (xs) => (xs.every(isNum) ? f(...(xs as number[])) : null)) : undefined;
  return [withValue({ dtype: infos[0]?.dtype, shape: broadcast(infos.map((i) => i?.shape)) }, value)];
}

const passValue: ShapeRule = (node, ctx) => {
  const x = ctx.info(node.inputs[0]);
  return [x ? withValue(same(x)!, x.value) : undefined];
};

export const elementwiseRules: Record<string, ShapeRule> = {
  ...Object.fromEntries(UNARY.map((op): [string, ShapeRule] => [op, (n, c) => [same(c.info(n.inputs[0]))]])),
  ...Object.fromEntries(
    Object.entries(BINARY).map(([op, f]): [string, ShapeRule] => [op, (n, c) => binary(n, c, f, false)]),
  ),
  ...Object.fromEntries(
    Object.entries(COMPARE).map(([op, f]): [string, ShapeRule] => [op, (n, c) => binary(n, c, f, true)]),
  ),
  Max: variadic,
  Min: variadic,
  Sum: variadic,
  Mean: variadic,
  Neg: (node, ctx) => {
    const x = ctx.info(node.inputs[0]);
    if (!x) return [undefined];
    return [
      withValue(
        same(x)!,
        x.value?.map((d) => (isNum(d) ? -d : null)),
      ),
    ];
  },
  Identity: passValue,
  IsNaN: (node, ctx) => [{ dtype: 'bool', shape: ctx.info(node.inputs[0])?.shape }],
  IsInf: (node, ctx) => [{ dtype: 'bool', shape: ctx.info(node.inputs[0])?.shape }],
  Clip: (node, ctx) => [same(ctx.info(node.inputs[0]))],
  Dropout: (node, ctx) => {
    const x = ctx.info(node.inputs[0]);
    return [same(x), x ? { dtype: 'bool', shape: x.shape } : undefined];
  },
  Cast: (node, ctx) => {
    const x = ctx.info(node.inputs[0]);
    const dtype = dtypeFromCode(attrInt(node, 'to', 0));
    if (!x) return [dtype ? { dtype } : undefined];
    const value = dtype === 'bool' ? x.value?.map((d) => (isNum(d) ? Number(d !== 0) : null)) : x.value;
    const int = dtype !== undefined && /int/.test(dtype);
    return [
      withValue({ dtype, shape: x.shape }, int ? value?.map((d) => (isNum(d) ? Math.trunc(d) : d)) : value),
    ];
  },
  CastLike: (node, ctx) => {
    const x = ctx.info(node.inputs[0]);
    return [{ dtype: ctx.info(node.inputs[1])?.dtype, shape: x?.shape }];
  },
  Where: (node, ctx) => {
    const [c, a, b] = node.inputs.map((i) => ctx.info(i));
    const shape = broadcast([c?.shape, a?.shape, b?.shape]);
    const value = fold([c, a, b], ([cv, av, bv]) => (isNum(cv) ? (cv !== 0 ? av! : bv!) : null));
    return [withValue({ dtype: a?.dtype ?? b?.dtype, shape }, value)];
  },
};
