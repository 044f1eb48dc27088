/** Small helpers over backbone models: probing tensor shapes, writing weights back, random (scratch) init. */
import { GraftError } from '../../errors.js';
import type { Model } from '../../onnx/ir.js';
import { extract } from '../../onnx/surgery.js';
import { Session } from '../../runtime/session.js';
import { float32, type Tensor } from '../../tensor.js';
import { mulberry32 } from '../../data/random.js';
import { bnStatistics } from './cut.js';

/** Per-example shapes (batch axis dropped) of `tensors`, from one batch-1 run of the prefix that computes them. */
export async function probeShapes(
  backbone: Model,
  inputName: string,
  inputShape: readonly number[],
  tensors: readonly string[],
): Promise<number[][]> {
  const g = extract(backbone.graph, [inputName], [...tensors]);
  g.outputs = g.outputs.map((o) => ({ name: o.name, dtype: 'float32' }));
  const session = await Session.create({ ...backbone, graph: g }, { threads: 1, validate: false });
  try {
    const input = backbone.graph.inputs.find((v) => v.name === inputName);
    const x: Tensor =
      input?.dtype === 'int64'
        ? {
            dtype: 'int64',
            shape: [1, ...inputShape],
            data: new BigInt64Array(inputShape.reduce((a, b) => a * b, 1)),
          }
        : float32([1, ...inputShape]);
    const out = await session.run({ [inputName]: x }, [...tensors]);
    return tensors.map((t) => out[t]!.shape.slice(1));
  } finally {
    await session.release();
  }
}

/** A copy of `backbone` whose initializers named in `values` hold those values. */
export function withWeights(backbone: Model, values: ReadonlyMap<string, Float32Array>): Model {
  const initializers = new Map(backbone.graph.initializers);
  for (const [name, data] of values) {
    const t = initializers.get(name);
    if (!t) continue;
    if (t.data.length !== data.length) {
      throw new GraftError(
        'SHAPE_MISMATCH',
        `weight '${name}' has ${data.length} values, expected ${t.data.length}`,
      );
    }
    initializers.set(name, { ...t, data: Float32Array.from(data) } as Tensor);
  }
  return { ...backbone, graph: { ...backbone.graph, initializers } };
}

/** A standard normal draw (Box–Muller) from a uniform generator. */
function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Random initialisation of the same architecture, as torchvision does for MobileNetV2: conv kernels He-normal
 * with fan-out (std = sqrt(2 / (outChannels·kh·kw))), conv biases 0, BN γ = 1,
 * β = 0, running mean 0, running variance 1; Gemm weights U(±1/sqrt(fanIn)).
 */
export function heInit(backbone: Model, seed: number): Map<string, Float32Array> {
  const g = backbone.graph;
  const u = mulberry32(seed);
  const out = new Map<string, Float32Array>();
  for (const node of g.nodes) {
    if (node.opType === 'Conv') {
      const w = g.initializers.get(node.inputs[1] ?? '');
      if (!w || out.has(node.inputs[1]!)) continue;
      const [co, , kh, kw] = w.shape as number[];
      const std = Math.sqrt(2 / (co! * (kh ?? 1) * (kw ?? 1)));
      out.set(
        node.inputs[1]!,
        Float32Array.from({ length: w.data.length }, () => normal(u) * std),
      );
      const bias = node.inputs[2] && g.initializers.get(node.inputs[2]);
      if (bias) out.set(node.inputs[2]!, new Float32Array(bias.data.length));
    } else if (node.opType === 'Gemm') {
      const w = g.initializers.get(node.inputs[1] ?? '');
      if (!w || out.has(node.inputs[1]!)) continue;
      const bound = 1 / Math.sqrt(Math.min(...(w.shape as number[])));
      out.set(
        node.inputs[1]!,
        Float32Array.from({ length: w.data.length }, () => (u() * 2 - 1) * bound),
      );
      const bias = node.inputs[2] && g.initializers.get(node.inputs[2]);
      if (bias) out.set(node.inputs[2]!, new Float32Array(bias.data.length));
    }
  }
  for (const { node, mean, variance } of bnStatistics(g)) {
    const c = g.initializers.get(mean)!.data.length;
    out.set(node.inputs[1]!, new Float32Array(c).fill(1));
    out.set(node.inputs[2]!, new Float32Array(c));
    out.set(mean, new Float32Array(c));
    out.set(variance, new Float32Array(c).fill(1));
  }
  return out;
}

/**
 * Random initialisation of every weight in `names`, for any architecture: heInit's rules where they apply
 * (Conv, Gemm, BatchNormalization), then what transformer encoders use — MatMul weights U(±1/sqrt(fanIn)),
 * embedding tables (read by Gather) N(0, 0.02) (BERT's initializer_range), 1-D tensors a Mul or
 * LayerNormalization scales with (γ) 1, other 1-D tensors (biases, β) 0; anything else N(0, 0.02).
 */
export function scratchInit(model: Model, seed: number, names: readonly string[]): Map<string, Float32Array> {
  const g = model.graph;
  const he = heInit(model, seed);
  const u = mulberry32(seed ^ 0x5eed);
  const readers = new Map<string, { op: string; index: number }[]>();
  for (const n of g.nodes)
    n.inputs.forEach((i, index) =>
      (readers.get(i) ?? readers.set(i, []).get(i)!).push({ op: n.opType, index }),
    );
  const out = new Map<string, Float32Array>();
  for (const name of names) {
    const t = g.initializers.get(name);
    if (!t) continue;
    const given = he.get(name);
    if (given) {
      out.set(name, given);
      continue;
    }
    const n = t.data.length;
    const r = readers.get(name) ?? [];
    const shape = t.shape as number[];
    if (r.some((x) => x.op === 'MatMul') && shape.length === 2) {
      const bound = 1 / Math.sqrt(shape[0]!);
      out.set(
        name,
        Float32Array.from({ length: n }, () => (u() * 2 - 1) * bound),
      );
    } else if (shape.length <= 1) {
      const scale = r.some((x) => x.op === 'Mul' || (x.op === 'LayerNormalization' && x.index === 1));
      out.set(name, new Float32Array(n).fill(scale ? 1 : 0));
    } else
      out.set(
        name,
        Float32Array.from({ length: n }, () => normal(u) * 0.02),
      );
  }
  return out;
}
