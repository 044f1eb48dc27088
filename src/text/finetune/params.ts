/**
 * Which encoder weights train: float initializers grouped by transformer layer (from their names or the names of
 * the nodes that read them, e.g. 'encoder.layer.3.…' or '/layers.3/q/MatMul'), so that 'top:N' can unfreeze
 * the last N layers, as Hugging Face users do by hand with `requires_grad`.
 */
import { GraftError } from '../../errors.js';
import type { Model } from '../../onnx/ir.js';

/**
 * 'all': every encoder weight; 'none': the head only (and the pooler); 'last:N' (images' name for the last N
 * blocks, so one recipe's phases serve both) or its older spelling 'top:N': the last N layers too.
 */
export type Unfreeze = 'all' | 'none' | `last:${number}` | `top:${number}`;

export const LAYER = /(?:^|[^a-z])(?:layer|layers|h|block|blocks)[._/](\d+)(?:[._/]|$)/i;
const POOLER = /pooler/i;

export interface EncoderParam {
  name: string;
  /** Transformer layer index, or undefined for embeddings and other weights outside the layers. */
  layer: number | undefined;
  pooler: boolean;
  size: number;
}

/** The trainable candidates: float32 initializers with at least 2 values (scalars are constants such as eps). */
export function encoderParams(model: Model): EncoderParam[] {
  const g = model.graph;
  const readers = new Map<string, string[]>();
  for (const n of g.nodes)
    for (const i of n.inputs)
      if (g.initializers.has(i)) (readers.get(i) ?? readers.set(i, []).get(i)!).push(n.name);
  const out: EncoderParam[] = [];
  for (const [name, t] of g.initializers) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (t.dtype !== 'float32' || size < 2 || !readers.has(name)) continue;
    const names = [name, ...readers.get(name)!];
    const m = names.map((s) => LAYER.exec(s)).find((x) => x);
    out.push({ name, layer: m ? Number(m[1]) : undefined, pooler: names.some((s) => POOLER.test(s)), size });
  }
  return out;
}

export function parseUnfreeze(u: string): { kind: 'all' | 'none' } | { kind: 'top'; n: number } {
  if (u === 'all' || u === 'none') return { kind: u };
  const m = /^(?:last|top):(\d+)$/.exec(u);
  if (!m)
    throw new GraftError('BAD_OPTION', `unfreeze must be 'all', 'none' or 'last:N', got '${u}'`, {
      unfreeze: u,
    });
  return { kind: 'top', n: Number(m[1]) };
}

/** Names of the encoder weights that train for `unfreeze` (the pooler always trains when any layer does). */
export function trainableEncoderParams(model: Model, unfreeze: Unfreeze): string[] {
  const u = parseUnfreeze(unfreeze);
  const all = encoderParams(model);
  if (u.kind !== 'top') return u.kind === 'all' ? all.map((p) => p.name) : [];
  const layers = all.flatMap((p) => (p.layer === undefined ? [] : [p.layer]));
  if (layers.length === 0)
    throw new GraftError(
      'BAD_OPTION',
      `unfreeze '${unfreeze}': no transformer layers found in the encoder's names`,
    );
  const count = Math.max(...layers) + 1;
  if (u.n > count)
    throw new GraftError('BAD_OPTION', `unfreeze '${unfreeze}': the encoder has only ${count} layers`, {
      layers: count,
    });
  const first = count - u.n;
  return all
    .filter((p) => (p.layer !== undefined && p.layer >= first) || (u.n > 0 && p.pooler))
    .map((p) => p.name);
}

/** Hugging Face's no-decay rule: biases and LayerNorm weights (1-D tensors) get no weight decay. */
export function noDecayParams(model: Model, names: readonly string[]): string[] {
  return names.filter((n) => {
    const t = model.graph.initializers.get(n);
    return !t || t.shape.length <= 1;
  });
}
