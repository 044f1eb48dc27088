/**
 * Which quantized nodes hurt most, by per-layer output error (the measure of ONNX Runtime's qdq_loss_debug):
 * the float model and its QDQ copy run on the same batches; for every quantized activation, the relative L2
 * error between the float value and the QDQ model's dequantized one. A node's own share is the error of its
 * output minus the largest error already on its inputs, so a node is not blamed for what came before it.
 */
import type { Model } from '../onnx/ir.js';
import { Session, type SessionOptions } from '../runtime/session.js';
import type { FeedBatches } from './calibrate.js';
import { policyOf } from './ops.js';
import type { QdqResult } from './qdq.js';

export interface NodeError {
  node: string;
  opType: string;
  /** Relative L2 error of the node's (dequantized) output against the float model's. */
  outputError: number;
  /** outputError minus the largest relative error on its quantized inputs. */
  addedError: number;
}

async function sessionWith(
  model: Model,
  outputs: readonly string[],
  options: SessionOptions,
): Promise<Session> {
  const have = new Set(model.graph.outputs.map((o) => o.name));
  const extra = outputs.filter((o) => !have.has(o)).map((name) => ({ name, dtype: 'float32' as const }));
  const m: Model = { ...model, graph: { ...model.graph, outputs: [...model.graph.outputs, ...extra] } };
  return Session.create(m, { ...options, validate: false });
}

/**
 * Relative L2 error of tensors of `quantized` against tensors of `float` (pairs: float name → quantized
 * name), over at most `maxBatches` batches.
 */
export async function tensorErrors(
  float: Model,
  quantized: Model,
  pairs: ReadonlyMap<string, string>,
  batches: FeedBatches,
  options: { maxBatches?: number; session?: SessionOptions } = {},
): Promise<Map<string, number>> {
  const tensors = [...pairs.keys()];
  const fs = await sessionWith(float, tensors, options.session ?? {});
  const qs = await sessionWith(
    quantized,
    tensors.map((t) => pairs.get(t)!),
    options.session ?? {},
  );
  const diff = new Map<string, number>();
  const norm = new Map<string, number>();
  let seen = 0;
  try {
    for await (const feeds of batches()) {
      if (seen++ >= (options.maxBatches ?? 4)) break;
      const fo = await fs.run(feeds, tensors);
      const qo = await qs.run(
        feeds,
        tensors.map((t) => pairs.get(t)!),
      );
      for (const t of tensors) {
        const a = fo[t]!.data as Float32Array;
        const b = qo[pairs.get(t)!]!.data as Float32Array;
        let d = 0;
        let n = 0;
        for (let i = 0; i < a.length; i++) {
          const e = a[i]! - b[i]!;
          d += e * e;
          n += a[i]! * a[i]!;
        }
        diff.set(t, (diff.get(t) ?? 0) + d);
        norm.set(t, (norm.get(t) ?? 0) + n);
      }
    }
  } finally {
    await fs.release();
    await qs.release();
  }
  return new Map(tensors.map((t) => [t, Math.sqrt((diff.get(t) ?? 0) / Math.max(norm.get(t) ?? 0, 1e-30))]));
}

/** Relative error per quantized activation tensor of a QDQ model (its dequantized value against float). */
export async function activationErrors(
  float: Model,
  qdq: QdqResult,
  batches: FeedBatches,
  options: { maxBatches?: number; session?: SessionOptions } = {},
): Promise<Map<string, number>> {
  const inputs = new Set(float.graph.inputs.map((v) => v.name));
  const pairs = new Map([...qdq.dequantized].filter(([t]) => !inputs.has(t)));
  return tensorErrors(float, qdq.model, pairs, batches, options);
}

/**
 * Dynamically quantized MatMuls ranked by the error they add: the relative error of the output (which keeps its
 * name) minus that of the input, largest first.
 */
export async function rankDynamicNodes(
  float: Model,
  quantized: Model,
  nodes: readonly string[],
  batches: FeedBatches,
  options: { maxBatches?: number; session?: SessionOptions } = {},
): Promise<NodeError[]> {
  const byName = new Map(float.graph.nodes.map((n) => [n.name, n]));
  const inputs = new Set(float.graph.inputs.map((v) => v.name));
  const tensors = new Set<string>();
  for (const name of nodes) {
    const n = byName.get(name)!;
    if (!inputs.has(n.inputs[0]!)) tensors.add(n.inputs[0]!);
    tensors.add(n.outputs[0]!);
  }
  const errors = await tensorErrors(
    float,
    quantized,
    new Map([...tensors].map((t) => [t, t])),
    batches,
    options,
  );
  return nodes
    .map((name) => {
      const n = byName.get(name)!;
      const outputError = errors.get(n.outputs[0]!) ?? 0;
      const addedError = outputError - (errors.get(n.inputs[0]!) ?? 0);
      return { node: name, opType: n.opType, outputError, addedError };
    })
    .sort((a, b) => b.addedError - a.addedError);
}

/** Quantized nodes of `float` (the prepared model) ranked by the error they add, largest first. */
export function rankNodes(float: Model, qdq: QdqResult, errors: ReadonlyMap<string, number>): NodeError[] {
  const quantized = new Set(qdq.quantizedNodes);
  const g = float.graph;
  const out: NodeError[] = [];
  for (const n of g.nodes) {
    if (!quantized.has(n.name)) continue;
    const policy = policyOf(n)!;
    const inErr = Math.max(0, ...policy.activations(n, g).map((i) => errors.get(n.inputs[i]!) ?? 0));
    // An absorbed Relu/Clip moved the node's output name to the activation's output.
    const outputs = n.outputs.filter((o) => o);
    const outErr = Math.max(
      0,
      ...outputs.map((o) => errors.get(o) ?? errors.get(absorbedOutput(float, o) ?? '') ?? 0),
    );
    out.push({ node: n.name, opType: n.opType, outputError: outErr, addedError: outErr - inErr });
  }
  return out.sort((a, b) => b.addedError - a.addedError);
}

/** The output of the Relu/Clip reading `tensor`, when it is the only reader. */
function absorbedOutput(model: Model, tensor: string): string | undefined {
  const readers = model.graph.nodes.filter((n) => n.inputs.includes(tensor));
  const only = readers.length === 1 ? readers[0]! : undefined;
  return only && (only.opType === 'Relu' || only.opType === 'Clip') ? only.outputs[0] : undefined;
}
