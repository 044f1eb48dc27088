/** Walks a Keras model config (Functional/Model or Sequential) into a flat list of layer calls. */
import { GraftError } from '../../errors.js';
import type { Dim } from '../../onnx/ir.js';
import type { InboundRef, KerasLayerJson, KerasModelConfig, KerasTopology } from './types.js';

/** A tensor reference: `<layer>:<node>:<tensor>`. */
export type TensorKey = string;

export const tensorKey = (layer: string, node: number, tensor: number): TensorKey =>
  `${layer}:${node}:${tensor}`;

export interface PlannedInput {
  readonly layer: string;
  readonly shape: readonly Dim[];
  readonly dtype: string;
}

export interface PlannedCall {
  readonly layer: string;
  readonly className: string;
  readonly config: Readonly<Record<string, unknown>>;
  readonly node: number;
  readonly inputs: readonly TensorKey[];
}

export interface Plan {
  readonly name: string;
  readonly inputs: readonly PlannedInput[];
  /** In dependency order. */
  readonly calls: readonly PlannedCall[];
  readonly outputs: readonly TensorKey[];
}

function corrupt(message: string, context: Record<string, unknown> = {}): GraftError {
  return new GraftError('CORRUPT_MODEL', message, context);
}

function layerName(l: KerasLayerJson): string {
  const n = l.name ?? l.config['name'];
  if (typeof n !== 'string') throw corrupt(`a ${l.class_name} layer has no name`);
  return n;
}

function inputShape(l: KerasLayerJson): Dim[] {
  const c = l.config;
  const bis = c['batch_input_shape'] ?? c['batch_shape'];
  const shape = Array.isArray(bis)
    ? bis
    : Array.isArray(c['input_shape'])
      ? [null, ...c['input_shape']]
      : null;
  if (!shape)
    throw corrupt(`input layer '${layerName(l)}' has no batch_input_shape`, { layer: layerName(l) });
  return shape.map((d: unknown) => (typeof d === 'number' ? d : null));
}

const refKey = (r: InboundRef): TensorKey => tensorKey(r[0], r[1] ?? 0, r[2] ?? 0);

function modelConfig(topology: KerasTopology): KerasModelConfig {
  if (topology.model_config) return topology.model_config;
  if (topology.class_name && topology.config)
    return { class_name: topology.class_name, config: topology.config };
  throw corrupt('modelTopology has no model_config');
}

function planSequential(name: string, layers: readonly KerasLayerJson[]): Plan {
  if (layers.length === 0) throw corrupt('Sequential model has no layers');
  const first = layers[0]!;
  const inputs: PlannedInput[] = [];
  let rest = layers;
  let prev: TensorKey;
  if (first.class_name === 'InputLayer') {
    inputs.push({
      layer: layerName(first),
      shape: inputShape(first),
      dtype: String(first.config['dtype'] ?? 'float32'),
    });
    prev = tensorKey(layerName(first), 0, 0);
    rest = layers.slice(1);
  } else {
    const inName = `${layerName(first)}_input`;
    inputs.push({
      layer: inName,
      shape: inputShape(first),
      dtype: String(first.config['dtype'] ?? 'float32'),
    });
    prev = tensorKey(inName, 0, 0);
  }
  const calls: PlannedCall[] = [];
  for (const l of rest) {
    calls.push({ layer: layerName(l), className: l.class_name, config: l.config, node: 0, inputs: [prev] });
    prev = tensorKey(layerName(l), 0, 0);
  }
  return { name, inputs, calls, outputs: [prev] };
}

function planFunctional(
  name: string,
  layers: readonly KerasLayerJson[],
  inputRefs: readonly InboundRef[],
  outputRefs: readonly InboundRef[],
): Plan {
  const inputs: PlannedInput[] = [];
  const pending: PlannedCall[] = [];
  for (const l of layers) {
    const lname = layerName(l);
    if (l.class_name === 'InputLayer') {
      inputs.push({ layer: lname, shape: inputShape(l), dtype: String(l.config['dtype'] ?? 'float32') });
      continue;
    }
    const nodes = l.inbound_nodes ?? [];
    nodes.forEach((refs, node) => {
      if (!Array.isArray(refs)) {
        throw corrupt(`layer '${lname}' uses an inbound_nodes format graft does not read (Keras 3?)`, {
          layer: lname,
        });
      }
      pending.push({
        layer: lname,
        className: l.class_name,
        config: l.config,
        node,
        inputs: refs.map(refKey),
      });
    });
  }
  // Order by dependencies (configs are usually ordered already; this also handles ones that are not).
  const available = new Set(inputs.map((i) => tensorKey(i.layer, 0, 0)));
  const calls: PlannedCall[] = [];
  let remaining = pending;
  while (remaining.length > 0) {
    const next: PlannedCall[] = [];
    for (const c of remaining) {
      if (c.inputs.every((k) => available.has(k))) {
        calls.push(c);
        available.add(tensorKey(c.layer, c.node, 0));
      } else next.push(c);
    }
    if (next.length === remaining.length) {
      const c = next[0]!;
      const missing = c.inputs.filter((k) => !available.has(k));
      throw corrupt(`layer '${c.layer}' needs tensors nothing produces: ${missing.join(', ')}`, {
        layer: c.layer,
      });
    }
    remaining = next;
  }
  const declared = new Set(inputRefs.map((r) => r[0]));
  const ordered = [...inputs].sort(
    (a, b) => inputRefs.findIndex((r) => r[0] === a.layer) - inputRefs.findIndex((r) => r[0] === b.layer),
  );
  return {
    name,
    inputs: ordered.filter((i) => declared.has(i.layer)),
    calls,
    outputs: outputRefs.map(refKey),
  };
}

/** Reads a TF.js/Keras topology into a plan: inputs, calls in dependency order, outputs. */
export function planTopology(topology: KerasTopology): Plan {
  const mc = modelConfig(topology);
  const cfg = mc.config;
  if (Array.isArray(cfg)) return planSequential('sequential', cfg as readonly KerasLayerJson[]);
  const c = cfg as Exclude<KerasModelConfig['config'], readonly KerasLayerJson[]>;
  const name = c.name ?? 'model';
  if (mc.class_name === 'Sequential') return planSequential(name, c.layers);
  if (mc.class_name !== 'Model' && mc.class_name !== 'Functional') {
    throw new GraftError('UNSUPPORTED_OP', `model class '${mc.class_name}' is not supported`, {
      className: mc.class_name,
    });
  }
  return planFunctional(name, c.layers, c.input_layers ?? [], c.output_layers ?? []);
}
