/**
 * Folds a zero Pad of the spatial axes into the Conv it feeds, before differentiating:
 *   Conv(Pad(x, zeros around H and W), W) = Conv(x, W) with those zeros added to the Conv's own pads.
 * Keras exports stride-2 convolutions as ZeroPadding2D + a 'valid' Conv. Left alone, the training graph keeps
 * both x (for the activation before it) and the padded copy (the Conv's input, for its weight gradient) alive
 * from the forward pass to the backward: in MobileNetV2 at 224×224, batch 32, 261 MB of padded copies at the
 * peak. Folded, the Conv reads x directly (ONNX Conv pads may be asymmetric), and the Pad's pass and its
 * backward Slice disappear. Pure rewrite: same function, same parameters.
 */
import { attr } from '../onnx/builder.js';
import { getAttr, type Graph, type Node } from '../onnx/ir.js';
import { consumers, topoSort } from '../onnx/topo.js';

/** A constant zero-pad of the spatial axes only, as [begin..., end...] over all axes; undefined otherwise. */
function spatialZeroPads(g: Graph, pad: Node, opset: number): number[] | undefined {
  if (pad.opType !== 'Pad' || pad.domain !== '') return undefined;
  if ((getAttr(pad, 'mode', 'string') ?? 'constant') !== 'constant') return undefined;
  let pads: number[] | undefined;
  if (opset < 11) {
    pads = getAttr(pad, 'pads', 'ints');
    if ((getAttr(pad, 'value', 'float') ?? 0) !== 0) return undefined;
  } else {
    if (pad.inputs[3]) return undefined; // axes (opset 18): left to the general form
    const p = g.initializers.get(pad.inputs[1] ?? '');
    if (!p || p.dtype !== 'int64') return undefined;
    pads = Array.from(p.data as BigInt64Array, Number);
    const value = pad.inputs[2] ? g.initializers.get(pad.inputs[2]) : undefined;
    if (
      pad.inputs[2] &&
      (!value || Array.from(value.data as ArrayLike<number | bigint>).some((v) => Number(v) !== 0))
    )
      return undefined;
  }
  if (!pads || pads.length % 2 !== 0 || pads.some((v) => v < 0)) return undefined;
  const rank = pads.length / 2;
  // batch and channel axes untouched
  if (rank < 3 || pads[0] !== 0 || pads[1] !== 0 || pads[rank] !== 0 || pads[rank + 1] !== 0)
    return undefined;
  return pads;
}

/**
 * Rewrites every foldable Pad → Conv pair of `g` in place; returns how many were folded. `keep` names values that
 * must survive (the loss, extra outputs): a Pad output among them, or one read by anything but one Conv's input,
 * stays.
 */
export function foldZeroPadIntoConv(g: Graph, opset: number, keep: ReadonlySet<string>): number {
  const users = consumers(g);
  const outputs = new Set(g.outputs.map((v) => v.name));
  const dead = new Set<Node>();
  for (const pad of g.nodes) {
    const padded = pad.outputs[0];
    if (!padded || outputs.has(padded) || keep.has(padded)) continue;
    const readers = users.get(padded) ?? [];
    const conv = readers[0];
    if (readers.length !== 1 || !conv || conv.opType !== 'Conv' || conv.domain !== '') continue;
    if (conv.inputs[0] !== padded || conv.inputs.slice(1).includes(padded)) continue;
    const autoPad = getAttr(conv, 'auto_pad', 'string') ?? 'NOTSET';
    if (autoPad !== 'NOTSET' && autoPad !== 'VALID') continue;
    const pads = spatialZeroPads(g, pad, opset);
    if (!pads) continue;
    const spatial = pads.length / 2 - 2;
    const own = autoPad === 'VALID' ? [] : (getAttr(conv, 'pads', 'ints') ?? []);
    const convPads = Array.from({ length: 2 * spatial }, (_, i) => {
      const side = i < spatial ? 0 : 1;
      const axis = 2 + (i % spatial);
      return (own[i] ?? 0) + pads[side * (spatial + 2) + axis]!;
    });
    conv.inputs = [pad.inputs[0]!, ...conv.inputs.slice(1)];
    const { auto_pad: _autoPad, ...attrs } = conv.attrs;
    conv.attrs = { ...attrs, pads: attr.ints(convPads) };
    dead.add(pad);
  }
  if (dead.size === 0) return 0;
  g.nodes = topoSort({ ...g, nodes: g.nodes.filter((n) => !dead.has(n)) });
  return dead.size;
}
