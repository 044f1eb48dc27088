/**
 * Shallower transformer encoders for text students, as in DistilBERT (Sanh et al. 2019): the student is the
 * teacher's own graph with some of its layers taken out, so the layers it keeps start from the teacher's weights.
 *
 * A layer is the set of nodes that its names tie to one index (a node's name, or a layer-named initializer it
 * reads: `/layers.3/q/MatMul`, `encoder.layer.3.attention…`; the rule of text/finetune/params.ts). The encoder
 * must be a plain stack: each layer hands exactly one tensor (its residual stream) to what follows, and reads
 * from earlier layers only that tensor of the layer before it; side inputs such as the attention mask come from
 * outside the layers. Dropping layer j then means: whatever read layer j's output reads its input instead. Layer
 * 0's input is the outside tensor that layer 0 reads where layer 1 reads layer 0's output (same consumer nodes,
 * same input slots). The layers kept are renumbered 0, 1, … in every name, so unfreezing `top:N` and
 * layer-wise rates count the student's layers.
 */
import { GraftError } from '../errors.js';
import { cloneModel, type Graph, type Model, type Node } from '../onnx/ir.js';
import { producers, removeDeadNodes, topoSort } from '../onnx/topo.js';
import { LAYER } from '../text/finetune/params.js';

export interface EncoderLayer {
  /** The residual-stream tensor the layer reads (undefined for layer 0 when it cannot be told apart). */
  input: string | undefined;
  /** The one tensor the layer hands on. */
  output: string;
  nodes: readonly Node[];
}

function unsupported(why: string): GraftError {
  return new GraftError('BAD_INPUT', `cannot take layers out of this encoder: ${why}`);
}

function layerOf(n: Node, g: Graph): number | undefined {
  const own = LAYER.exec(n.name);
  if (own) return Number(own[1]);
  for (const i of n.inputs) {
    const m = g.initializers.has(i) ? LAYER.exec(i) : null;
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Where a name's layer index sits: [start, end) of its digits. */
function indexSpan(name: string): [number, number] | undefined {
  const m = LAYER.exec(name);
  if (!m) return undefined;
  const sepAtEnd = /[._/]$/.test(m[0]) ? 1 : 0;
  const end = m.index + m[0].length - sepAtEnd;
  return [end - m[1]!.length, end];
}

/** How a layer reads a tensor: its consumer nodes (names without the layer index) and input slots. */
function readSignature(tensor: string, nodes: readonly Node[]): string {
  const uses: string[] = [];
  for (const n of nodes)
    n.inputs.forEach((i, slot) => {
      if (i !== tensor) return;
      const span = indexSpan(n.name);
      const name = span ? `${n.name.slice(0, span[0])}#${n.name.slice(span[1])}` : '';
      uses.push(`${n.opType}:${name}:${slot}`);
    });
  return uses.sort().join('|');
}

/** The encoder's layers in order, with the tensor each reads and hands on. */
export function encoderLayers(model: Model): EncoderLayer[] {
  const g = model.graph;
  const groups = new Map<number, Node[]>();
  const layerOfNode = new Map<Node, number>();
  for (const n of g.nodes) {
    const k = layerOf(n, g);
    if (k === undefined) continue;
    layerOfNode.set(n, k);
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(n);
  }
  const count = groups.size;
  if (count === 0) throw unsupported('no node or weight names a transformer layer (e.g. /layers.3/…)');
  for (let k = 0; k < count; k++)
    if (!groups.has(k)) throw unsupported(`layer indexes are not 0..${count - 1}`);
  const producedIn = new Map<string, number>();
  for (const [n, k] of layerOfNode) for (const o of n.outputs) if (o) producedIn.set(o, k);
  const graphOutputs = new Set(g.outputs.map((v) => v.name));
  const outputs: string[] = [];
  for (let k = 0; k < count; k++) {
    const mine = new Set(groups.get(k)!);
    const leaving = new Set<string>();
    for (const n of g.nodes)
      if (!mine.has(n)) for (const i of n.inputs) if (producedIn.get(i) === k) leaving.add(i);
    for (const n of mine) for (const o of n.outputs) if (graphOutputs.has(o)) leaving.add(o);
    if (leaving.size !== 1)
      throw unsupported(
        `layer ${k} hands on ${leaving.size} tensors (${[...leaving].slice(0, 3).join(', ')}), not one residual stream`,
      );
    outputs.push([...leaving][0]!);
  }
  for (let k = 0; k < count; k++)
    for (const n of groups.get(k)!)
      for (const i of n.inputs) {
        const from = producedIn.get(i);
        if (from !== undefined && from !== k && !(from === k - 1 && i === outputs[k - 1]))
          throw unsupported(`layer ${k} reads '${i}' of layer ${from}: not a plain stack of layers`);
      }
  const prod = producers(g);
  const firstInput = (): string | undefined => {
    if (count < 2) return undefined;
    const want = readSignature(outputs[0]!, groups.get(1)!);
    const outside = new Set<string>();
    for (const n of groups.get(0)!)
      for (const i of n.inputs)
        if (i && !g.initializers.has(i) && producedIn.get(i) === undefined && (prod.has(i) || isInput(g, i)))
          outside.add(i);
    const match = [...outside].filter((t) => readSignature(t, groups.get(0)!) === want);
    return match.length === 1 ? match[0] : undefined;
  };
  return outputs.map((output, k) => ({
    input: k === 0 ? firstInput() : outputs[k - 1],
    output,
    nodes: groups.get(k)!,
  }));
}

const isInput = (g: Graph, name: string): boolean => g.inputs.some((v) => v.name === name);

/**
 * Which `count` of `total` layers a student keeps: spread evenly, first and last included — round(i·(L−1)/(N−1)).
 * For 12 → 6 this is DistilBERT's own choice, 0 2 4 7 9 11; 6 → 3 keeps 0 3 5; one layer keeps the last.
 */
export function spreadLayers(total: number, count: number): number[] {
  if (!(Number.isInteger(count) && count >= 1 && count <= total))
    throw new GraftError(
      'BAD_OPTION',
      `a student keeps 1 to ${total} of the teacher's ${total} layers, not ${count}`,
    );
  if (count === 1) return [total - 1];
  return Array.from({ length: count }, (_, i) => Math.round((i * (total - 1)) / (count - 1)));
}

/** The encoder with only the layers `keep` (teacher indexes, ascending), renumbered 0, 1, …. */
export function dropLayers(model: Model, keep: readonly number[]): Model {
  const layers = encoderLayers(model);
  const kept = [...new Set(keep)].sort((a, b) => a - b);
  if (kept.length === 0 || kept.some((k) => !Number.isInteger(k) || k < 0 || k >= layers.length))
    throw new GraftError(
      'BAD_OPTION',
      `layers to keep must be distinct indexes in 0..${layers.length - 1}, got ${keep.join(',')}`,
    );
  const m = cloneModel(model);
  const g = m.graph;
  // What each dropped layer's output becomes: the input it would have read (through earlier dropped layers).
  const substitute = new Map<string, string>();
  const dropped = new Set<Node>();
  layers.forEach((layer, k) => {
    if (kept.includes(k)) return;
    if (layer.input === undefined)
      throw unsupported(`layer ${k}'s input cannot be told apart from its side inputs; keep layer ${k}`);
    substitute.set(layer.output, substitute.get(layer.input) ?? layer.input);
    for (const n of layer.nodes) dropped.add(n);
  });
  // The clone keeps the original's node order.
  g.nodes = g.nodes.filter((_, i) => !dropped.has(model.graph.nodes[i]!));
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => substitute.get(i) ?? i);
  for (const out of g.outputs) {
    const from = substitute.get(out.name);
    if (from)
      g.nodes.push({
        name: `/graft/keep_layers/${out.name}`,
        opType: 'Identity',
        domain: '',
        inputs: [from],
        outputs: [out.name],
        attrs: {},
      });
  }
  g.nodes = topoSort(g);
  removeDeadNodes(g);
  return renumber(m, new Map(kept.map((k, i) => [k, i])));
}

/** Renames every layer-indexed name (nodes, tensors, weights) from teacher to student indexes. */
function renumber(m: Model, index: ReadonlyMap<number, number>): Model {
  const rename = (s: string): string => {
    const span = indexSpan(s);
    if (!span) return s;
    const to = index.get(Number(s.slice(span[0], span[1])));
    return to === undefined ? s : `${s.slice(0, span[0])}${to}${s.slice(span[1])}`;
  };
  const g = m.graph;
  for (const n of g.nodes) {
    n.name = rename(n.name);
    n.inputs = n.inputs.map(rename);
    n.outputs = n.outputs.map(rename);
  }
  g.inputs = g.inputs.map((v) => ({ ...v, name: rename(v.name) }));
  g.outputs = g.outputs.map((v) => ({ ...v, name: rename(v.name) }));
  g.initializers = new Map([...g.initializers].map(([k, v]) => [rename(k), v]));
  g.valueInfo = new Map([...g.valueInfo].map(([k, v]) => [rename(k), { ...v, name: rename(k) }]));
  const produced = new Set<string>();
  for (const n of g.nodes)
    for (const o of n.outputs) {
      if (o && produced.has(o)) throw new GraftError('BAD_INPUT', `renumbering the layers made '${o}' twice`);
      produced.add(o);
    }
  return m;
}
