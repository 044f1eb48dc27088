/**
 * The backbone prefix that computes feature vectors: the subgraph from the image input to the chosen features
 * (feature ids, see feature-id.ts), each pooled when spatial ([N,C,H,W] → [N,C·g²]) and flattened when needed.
 */
import { GraftError } from '../errors.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import { createModel, opsetOf, type Model } from '../onnx/ir.js';
import { extract } from '../onnx/surgery.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { float32, sizeOf } from '../tensor.js';
import { emitGridPool, featureParts } from './feature-id.js';

export interface PooledPrefix {
  model: Model;
  /** Output name per requested feature, in the same order. */
  outputs: string[];
  /** Width of each pooled feature vector. */
  dims: number[];
}

export const featureOutputName = (tensor: string): string => `features:${tensor}`;

/** Probes the raw tensors once (batch 1) to learn their shapes, then builds the pooled prefix. */
export async function buildPooledPrefix(
  backbone: Model,
  inputName: string,
  features: readonly string[],
  inputShape: readonly number[],
  sessionOptions: SessionOptions = {},
): Promise<PooledPrefix> {
  if (features.length === 0) throw new GraftError('BAD_OPTION', 'no feature tensors were requested');
  const parts = features.map(featureParts);
  const tensors = [...new Set(parts.flat().map((f) => f.tensor))];
  const raw = extract(backbone.graph, [inputName], tensors);
  raw.outputs = raw.outputs.map((o) => ({ name: o.name, dtype: 'float32' }));
  const probeModel = { ...createModel(raw, opsetOf(backbone)), opsetImports: backbone.opsetImports };
  const probe = await Session.create(probeModel, { ...sessionOptions, validate: false });
  const x = float32(inputShape.map((d, i) => (i === 0 ? 1 : d)));
  const shapes = Object.fromEntries(
    Object.entries(await probe.run({ [inputName]: x })).map(([k, t]) => [k, t.shape]),
  );
  await probe.release();

  const b = new GraphBuilder(raw);
  raw.outputs = [];
  const outputs: string[] = [];
  const dims: number[] = [];
  for (const [i, feature] of features.entries()) {
    const name = featureOutputName(feature);
    const pooled = parts[i]!.map(({ tensor, grid }, j) =>
      emitPooled(b, tensor, shapes[tensor]!, grid, parts[i]!.length === 1 ? name : `${name}/part${j}`, {
        feature,
        opset: opsetOf(backbone),
      }),
    );
    if (pooled.length > 1)
      b.op(
        'Concat',
        pooled.map((p) => p.name),
        { axis: attr.int(1) },
        { outputs: [name] },
      );
    const dim = pooled.reduce((sum, p) => sum + p.dim, 0);
    b.output(name, 'float32', ['batch', dim]);
    outputs.push(name);
    dims.push(dim);
  }
  return { model: { ...probeModel, graph: raw }, outputs, dims };
}

/** Pools (or flattens) one tensor of shape `shape` into the [N, dim] tensor `output`. */
function emitPooled(
  b: GraphBuilder,
  tensor: string,
  shape: readonly number[],
  grid: number,
  output: string,
  context: { feature: string; opset: number },
): { name: string; dim: number } {
  if (grid > 1 && shape.length !== 4)
    throw new GraftError(
      'BAD_OPTION',
      `feature '${context.feature}': only [N,C,H,W] maps can be grid-pooled`,
    );
  if (shape.length === 4) {
    emitGridPool(b, tensor, [shape[2]!, shape[3]!], grid, output);
    return { name: output, dim: shape[1]! * grid * grid };
  }
  if (shape.length === 3) {
    // Token sequences [N, T, D]: mean over tokens. ReduceMean takes axes as an input from opset 18 on.
    if (context.opset >= 18) {
      const axes = b.constant('axes', { dtype: 'int64', shape: [1], data: BigInt64Array.of(1n) });
      b.op('ReduceMean', [tensor, axes], { keepdims: attr.int(0) }, { outputs: [output] });
    } else {
      b.op('ReduceMean', [tensor], { axes: attr.ints([1]), keepdims: attr.int(0) }, { outputs: [output] });
    }
    return { name: output, dim: shape[2]! };
  }
  b.op('Flatten', [tensor], { axis: attr.int(1) }, { outputs: [output] });
  return { name: output, dim: sizeOf(shape.slice(1)) };
}
