/**
 * The backbone prefix that computes feature vectors: the subgraph from the image input to the chosen tensors,
 * each globally average-pooled when spatial ([N,C,H,W] → [N,C]) and flattened when needed.
 */
import { GraftError } from '../errors.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import { createModel, opsetOf, type Model } from '../onnx/ir.js';
import { extract } from '../onnx/surgery.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import { float32, sizeOf } from '../tensor.js';

export interface PooledPrefix {
  model: Model;
  /** Output name per requested tensor, in the same order. */
  outputs: string[];
  /** Width of each pooled feature vector. */
  dims: number[];
}

export const featureOutputName = (tensor: string): string => `features:${tensor}`;

/** Probes the raw tensors once (batch 1) to learn their ranks, then builds the pooled prefix. */
export async function buildPooledPrefix(
  backbone: Model,
  inputName: string,
  tensors: readonly string[],
  inputShape: readonly number[],
  sessionOptions: SessionOptions = {},
): Promise<PooledPrefix> {
  if (tensors.length === 0) throw new GraftError('BAD_OPTION', 'no feature tensors were requested');
  const raw = extract(backbone.graph, [inputName], [...tensors]);
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
  for (const t of tensors) {
    const shape = shapes[t]!;
    const name = featureOutputName(t);
    if (shape.length === 4) {
      const pooled = b.op('GlobalAveragePool', [t]);
      b.op('Flatten', [pooled], { axis: attr.int(1) }, { outputs: [name] });
      dims.push(shape[1]!);
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
