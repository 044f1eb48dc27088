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
import { emitGridPool, parseFeatureId } from './feature-id.js';

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
  const ids = features.map(parseFeatureId);
  const raw = extract(backbone.graph, [inputName], [...new Set(ids.map((f) => f.tensor))]);
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
  for (const [i, { tensor: t, grid }] of ids.entries()) {
    const shape = shapes[t]!;
    const name = featureOutputName(features[i]!);
    if (grid > 1 && shape.length !== 4)
      throw new GraftError('BAD_OPTION', `feature '${features[i]}': only [N,C,H,W] maps can be grid-pooled`);
    if (shape.length === 4) {
      emitGridPool(b, t, [shape[2]!, shape[3]!], grid, name);
      dims.push(shape[1]! * grid * grid);
    } else if (shape.length === 3) {
      // Token sequences [N, T, D]: mean over tokens.
      // ReduceMean takes axes as an input from opset 18 on.
      if (opsetOf(backbone) >= 18) {
        const axes = b.constant('axes', { dtype: 'int64', shape: [1], data: BigInt64Array.of(1n) });
        b.op('ReduceMean', [t, axes], { keepdims: attr.int(0) }, { outputs: [name] });
      } else {
        b.op('ReduceMean', [t], { axes: attr.ints([1]), keepdims: attr.int(0) }, { outputs: [name] });
      }
      dims.push(shape[2]!);
    } else {
      b.op('Flatten', [t], { axis: attr.int(1) }, { outputs: [name] });
      dims.push(sizeOf(shape.slice(1)));
    }
    b.output(name, 'float32', ['batch', dims[dims.length - 1]!]);
    outputs.push(name);
  }
  return { model: { ...probeModel, graph: raw }, outputs, dims };
}
