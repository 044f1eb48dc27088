/**
 * Pooling of an encoder's token states as ONNX nodes appended to the encoder graph, so that encoder + pooling
 * (+ a head, appended later) is one model: CLS (first token) or the mean over the attention mask, optionally
 * L2-normalised (x / max(‖x‖₂, 1e-12), like torch.nn.functional.normalize).
 */
import { GraftError } from '../errors.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import { cloneModel, opsetOf, type Model } from '../onnx/ir.js';
import { removeDeadNodes } from '../onnx/topo.js';

export type TextPooling = 'cls' | 'mean';

export interface PoolingOptions {
  pooling: TextPooling;
  normalize?: boolean;
  /** The encoder output holding token states [batch, tokens, hidden]. Default 'last_hidden_state'. */
  hiddenOutput?: string;
  /** The attention mask input (int64 [batch, tokens]). Default 'attention_mask'. */
  maskInput?: string;
  /** Name of the pooled output [batch, hidden]. Default 'text_features'. */
  outputName?: string;
  /** Hidden width, recorded in the output's shape when known. */
  hidden?: number;
}

export const TEXT_FEATURES = 'text_features';

/**
 * A copy of `encoder` whose only output is the pooled [batch, hidden] features. Opset ≥ 13 graphs get
 * axes as inputs (Unsqueeze, ReduceSum), older graphs as attributes.
 */
export function appendPooling(encoder: Model, options: PoolingOptions): Model {
  const model = cloneModel(encoder);
  const g = model.graph;
  const hidden = options.hiddenOutput ?? 'last_hidden_state';
  const maskName = options.maskInput ?? 'attention_mask';
  const outName = options.outputName ?? TEXT_FEATURES;
  if (!g.nodes.some((n) => n.outputs.includes(hidden)))
    throw new GraftError('BAD_INPUT', `the encoder has no tensor named '${hidden}'`, { tensor: hidden });
  const b = new GraphBuilder(g);
  const newOpset = opsetOf(model) >= 13;
  const ints = (prefix: string, values: readonly number[]): string =>
    b.constant(prefix, {
      dtype: 'int64',
      shape: [values.length],
      data: BigInt64Array.from(values.map((v) => BigInt(v))),
    });
  const scalar = (prefix: string, v: number): string =>
    b.constant(prefix, { dtype: 'float32', shape: [], data: Float32Array.of(v) });
  const reduceSum = (x: string, axis: number, keep: 0 | 1, name?: string): string =>
    newOpset
      ? b.op('ReduceSum', [x, ints('pool/axes', [axis])], { keepdims: attr.int(keep) }, out(name))
      : b.op('ReduceSum', [x], { axes: attr.ints([axis]), keepdims: attr.int(keep) }, out(name));
  const out = (name?: string) => (name ? { outputs: [name] } : {});

  const last = options.normalize ? undefined : outName;
  let pooled: string;
  if (options.pooling === 'cls') {
    const zero = b.constant('pool/first', { dtype: 'int64', shape: [], data: BigInt64Array.of(0n) });
    pooled = b.op('Gather', [hidden, zero], { axis: attr.int(1) }, { name: 'pool/cls', ...out(last) });
  } else {
    if (!g.inputs.some((v) => v.name === maskName))
      throw new GraftError('BAD_INPUT', `mean pooling needs the encoder input '${maskName}'`, {
        input: maskName,
      });
    const m = b.op('Cast', [maskName], { to: attr.int(1) }, { name: 'pool/mask_float' });
    const m3 = newOpset
      ? b.op('Unsqueeze', [m, ints('pool/axis2', [2])])
      : b.op('Unsqueeze', [m], { axes: attr.ints([2]) });
    const summed = reduceSum(b.op('Mul', [hidden, m3]), 1, 0);
    const count = b.op('Max', [reduceSum(m, 1, 1), scalar('pool/min_count', 1e-9)]);
    pooled = b.op('Div', [summed, count], {}, { name: 'pool/mean', ...out(last) });
  }
  if (options.normalize) {
    const sq = reduceSum(b.op('Mul', [pooled, pooled]), 1, 1);
    const norm = b.op('Max', [b.op('Sqrt', [sq]), scalar('pool/eps', 1e-12)]);
    b.op('Div', [pooled, norm], {}, { name: 'pool/l2', outputs: [outName] });
  }
  g.outputs = [{ name: outName, dtype: 'float32', shape: ['batch', options.hidden ?? null] }];
  return { ...model, graph: removeDeadNodes(g) };
}
