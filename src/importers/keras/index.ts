/**
 * TF.js layers model (Keras 2.x topology + weight manifest) → graft IR Model (opset 17).
 *
 * The graph input is NHWC float32 `[batch, H, W, C]` like Keras. It is transposed once to NCHW; inside the
 * graph every rank-4 tensor is NCHW (ONNX's convolution layout) and named after the Keras layer that makes
 * it, so `block_15_add` is an NCHW tensor. Rank-4 graph outputs are transposed back to NHWC and named
 * `<layer>_nhwc`. Model metadata records this (`graft.layout`).
 */
import { GraftError } from '../../errors.js';
import { attr } from '../../onnx/builder.js';
import { createModel, type Dim, type Model } from '../../onnx/ir.js';
import type { Tensor } from '../../tensor.js';
import { decodeWeights, type ShardMap } from '../tfjs-weights.js';
import { KerasContext, type KTensor, type LayerCall } from './context.js';
import { converterFor } from './converters.js';
import { planTopology, tensorKey, type Plan, type TensorKey } from './topology.js';
import type { KerasTopology, LayersModelJson } from './types.js';

export type { LayersModelJson, KerasTopology, KerasLayerJson, KerasModelConfig } from './types.js';
export { LAYER_CONVERTERS } from './converters.js';

export interface KerasImportOptions {
  /** Graph name (default: the Keras model name). */
  name?: string;
}

function checkSupported(plan: Plan): void {
  for (const c of plan.calls) {
    if (!converterFor(c.className)) {
      throw new GraftError(
        'UNSUPPORTED_OP',
        `layer '${c.layer}' has class '${c.className}', which graft cannot import`,
        { layer: c.layer, className: c.className },
      );
    }
  }
}

const batchDim = (shape: readonly Dim[]): Dim[] => shape.map((d, i) => (i === 0 && d === null ? 'batch' : d));

/** Converts a Keras topology with already decoded weights (by manifest name). */
export function importKerasTopology(
  topology: KerasTopology,
  weights: ReadonlyMap<string, Tensor>,
  options: KerasImportOptions = {},
): Model {
  const plan = planTopology(topology);
  checkSupported(plan);
  const ctx = new KerasContext(weights, options.name ?? plan.name);
  const tensors = new Map<TensorKey, KTensor>();
  for (const inp of plan.inputs) {
    if (inp.dtype !== 'float32') {
      throw new GraftError(
        'UNSUPPORTED_OP',
        `input '${inp.layer}' has dtype ${inp.dtype}; only float32 is supported`,
      );
    }
    const name = ctx.b.input(inp.layer, 'float32', batchDim(inp.shape));
    let t: KTensor = { name, shape: inp.shape, nchw: false };
    if (inp.shape.length === 4) {
      const call: LayerCall = {
        layer: inp.layer,
        className: 'InputLayer',
        config: {},
        inputs: [],
        out: `${name}/nchw`,
      };
      t = {
        name: ctx.op(call, 'Transpose', [name], { perm: attr.ints([0, 3, 1, 2]) }, true),
        shape: inp.shape,
        nchw: true,
      };
    }
    tensors.set(tensorKey(inp.layer, 0, 0), t);
  }
  for (const c of plan.calls) {
    const call: LayerCall = {
      layer: c.layer,
      className: c.className,
      config: c.config,
      inputs: c.inputs.map((k) => tensors.get(k)!),
      out: c.node === 0 ? c.layer : `${c.layer}/call_${c.node}`,
    };
    tensors.set(tensorKey(c.layer, c.node, 0), converterFor(c.className)!(ctx, call));
  }
  for (const key of plan.outputs) {
    const t = tensors.get(key);
    if (!t) throw new GraftError('CORRUPT_MODEL', `model output '${key}' is not produced by any layer`);
    let name = t.name;
    if (t.nchw) {
      const layer = key.split(':')[0]!;
      const call: LayerCall = { layer, className: 'Output', config: {}, inputs: [t], out: `${t.name}_nhwc` };
      name = ctx.kerasOrder(call, t, true);
    }
    ctx.b.output(name, 'float32', batchDim(t.shape));
  }
  const model = createModel(ctx.b.graph, 17);
  model.producerName = 'graft (keras importer)';
  model.metadata['graft.importer'] = 'keras';
  model.metadata['graft.layout'] = 'NCHW';
  model.metadata['graft.input_layout'] = 'NHWC';
  return model;
}

/** Converts a TF.js layers model.json and its weight shards (bytes by manifest path). */
export function importKerasModel(
  json: LayersModelJson,
  shards: ShardMap,
  options: KerasImportOptions = {},
): Model {
  if (!json.modelTopology) throw new GraftError('CORRUPT_MODEL', 'model.json has no modelTopology');
  const weights = decodeWeights(json.weightsManifest ?? [], shards);
  return importKerasTopology(json.modelTopology, weights, options);
}
