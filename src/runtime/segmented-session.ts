/**
 * SegmentedSession runs a graph that mixes ONNX ops with graft's native ops (native-ops.ts): the nodes, in the
 * graph's order, are cut into maximal runs of ONNX nodes — each an ONNX Runtime session of its own — and the
 * native nodes between them, which the addon runs on the same number of threads. A value crosses from one
 * stage to a later one as a tensor held here, and is dropped after the last stage that reads it, so forward
 * activations are released as the backward pass consumes them. Native outputs that are not graph outputs are
 * written into arrays this session keeps: fresh memory costs a page fault per 4 KB page on first touch, which on
 * a loaded VM costs more than the convolution itself. An array is free again once its value is dropped, and goes
 * to the next native output of its length (a backward pass's input gradients share a handful of arrays).
 *
 * The stages' sessions run without ONNX Runtime's arena where graft's allocator setting keeps freed memory
 * (heap.ts): each arena keeps its own session's peak for good, and a training graph cut around 50 depthwise
 * convolutions makes ~50 sessions; freed blocks then go back to the one heap every stage allocates from. The whole
 * MobileNetV2 at 224×224 with every depthwise convolution native: peak RSS 4.95 → 2.51 GB, the last blocks (case
 * b) 477–528 → 386–408 MB, the same speed.
 */
import { cpus } from 'node:os';
import { GraftError } from '../errors.js';
import { opsetOf, type Graph, type Model, type Node, type ValueInfo } from '../onnx/ir.js';
import { inferTypes } from '../onnx/shape-inference.js';
import type { Tensor } from '../tensor.js';
import { NATIVE_DOMAIN, runNativeNode } from './native-ops.js';
import { retainFreedMemory } from './heap.js';
import { Session, type Feeds, type SessionOptions } from './session.js';

/**
 * The options of a stage's ONNX Runtime session: the caller's, without the arena unless the caller asks for one
 * or freed memory goes back to the kernel (then every run would fault its tensors in afresh).
 */
export function stageSessionOptions(options: SessionOptions, heapRetained: boolean): SessionOptions {
  return { ...options, memoryArena: options.memoryArena ?? !heapRetained, validate: false, worker: false };
}

interface OrtStage {
  kind: 'ort';
  session: Session;
  inputs: string[];
}

interface NativeStage {
  kind: 'native';
  node: Node;
}

type Stage = (OrtStage | NativeStage) & {
  /** Values no later stage (nor the graph's outputs) reads: dropped once this stage has run. */
  drop: string[];
};

async function releaseAll(stages: readonly Stage[]): Promise<void> {
  await Promise.all(stages.flatMap((s) => (s.kind === 'ort' ? [s.session.release()] : [])));
}

/** Whether the model has nodes that only a SegmentedSession runs. */
export function hasNativeNodes(model: Model): boolean {
  return model.graph.nodes.some((n) => n.domain === NATIVE_DOMAIN);
}

/** Consecutive ONNX nodes form one run; each native node is a run of its own. */
function runsOf(nodes: readonly Node[]): Node[][] {
  const runs: Node[][] = [];
  for (const n of nodes) {
    const last = runs[runs.length - 1];
    const native = n.domain === NATIVE_DOMAIN;
    if (!native && last && last[0]!.domain !== NATIVE_DOMAIN) last.push(n);
    else runs.push([n]);
  }
  return runs;
}

export class SegmentedSession {
  /**
   * Arrays for native outputs, by length: an array goes back here when its value is dropped (after its last
   * reader), so a later native output of the same size reuses it, within the run or in the next one.
   */
  private readonly free = new Map<number, Float32Array[]>();
  /** The arrays this session hands out (graph outputs, which the caller keeps, are not among them). */
  private readonly owned = new WeakSet<Float32Array>();

  private constructor(
    private readonly stages: readonly Stage[],
    private readonly graph: Graph,
    private readonly threads: number,
  ) {}

  static async create(model: Model, options: SessionOptions = {}): Promise<SegmentedSession> {
    const g = model.graph;
    const types = inferTypes(g, { opset: opsetOf(model) });
    const runs = runsOf(g.nodes);
    const graphOutputs = new Set(g.outputs.map((o) => o.name));
    const lastRead = new Map<string, number>();
    runs.forEach((run, i) => {
      for (const n of run) for (const v of n.inputs) if (v) lastRead.set(v, i);
    });
    const produced = new Map<string, number>();
    runs.forEach((run, i) => run.forEach((n) => n.outputs.forEach((o) => o && produced.set(o, i))));
    const info = (name: string): ValueInfo => {
      const t = types.get(name);
      if (!t?.dtype) {
        throw new GraftError('UNSUPPORTED_OP', `cannot split the graph: the type of '${name}' is unknown`, {
          tensor: name,
        });
      }
      return { name, dtype: t.dtype, ...(t.shape ? { shape: [...t.shape] } : {}) };
    };
    const stages: Stage[] = [];
    try {
      for (const [i, run] of runs.entries()) {
        const drop = [...lastRead]
          .filter(([v, at]) => at === i && !graphOutputs.has(v) && !g.initializers.has(v))
          .map(([v]) => v);
        if (run[0]!.domain === NATIVE_DOMAIN) {
          stages.push({ kind: 'native', node: run[0]!, drop });
          continue;
        }
        const inside = new Set(run.flatMap((n) => n.outputs));
        const reads = new Set(run.flatMap((n) => n.inputs).filter((v) => v && !inside.has(v)));
        const initializers = new Map(
          [...reads].filter((v) => g.initializers.has(v)).map((v) => [v, g.initializers.get(v)!]),
        );
        const inputs = [...reads].filter((v) => !initializers.has(v));
        const outputs = [...inside].filter((v) => v && (graphOutputs.has(v) || (lastRead.get(v) ?? -1) > i));
        const sub: Model = {
          ...model,
          graph: {
            name: `${g.name}_stage${i}`,
            nodes: run,
            inputs: inputs.map(info),
            outputs: outputs.map(info),
            initializers,
            valueInfo: new Map(),
          },
        };
        const session = await Session.create(sub, stageSessionOptions(options, retainFreedMemory()));
        stages.push({ kind: 'ort', session, inputs, drop });
      }
    } catch (e) {
      await releaseAll(stages);
      throw e;
    }
    return new SegmentedSession(stages, g, options.threads ?? cpus().length);
  }

  /** Number of ONNX Runtime sessions and native nodes it runs. */
  get size(): { sessions: number; native: number } {
    const sessions = this.stages.filter((s) => s.kind === 'ort').length;
    return { sessions, native: this.stages.length - sessions };
  }

  /** Runs every stage; returns `outputNames` (default: the graph's outputs). */
  async run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, Tensor>> {
    const values = new Map<string, Tensor>(Object.entries(feeds));
    const read = (name: string): Tensor => {
      const t = values.get(name) ?? this.graph.initializers.get(name);
      if (!t) throw new GraftError('BAD_INPUT', `missing input '${name}'`, { input: name });
      return t;
    };
    for (const stage of this.stages) {
      if (stage.kind === 'ort') {
        const ins: Feeds = {};
        for (const name of stage.inputs) ins[name] = read(name);
        const out = await stage.session.run(ins);
        for (const [name, t] of Object.entries(out)) values.set(name, t);
      } else {
        const n = stage.node;
        const ins = n.inputs.map((v) => (v ? read(v) : undefined));
        const outs = runNativeNode(n, ins, this.threads, (i, length) =>
          this.buffer(n.outputs[i] ?? '', length),
        );
        outs.forEach((t, i) => n.outputs[i] && values.set(n.outputs[i]!, t));
      }
      for (const v of stage.drop) {
        this.recycle(values.get(v));
        values.delete(v);
      }
    }
    const result: Record<string, Tensor> = {};
    for (const name of outputNames ?? this.graph.outputs.map((o) => o.name)) result[name] = read(name);
    // native outputs nothing read (but not what goes back to the caller)
    const returned = new Set(Object.values(result).map((t) => t.data));
    for (const t of values.values()) if (!returned.has(t.data)) this.recycle(t);
    return result;
  }

  /** An array for a native output: a fresh one for graph outputs (the caller keeps them), else a free one. */
  private buffer(name: string, length: number): Float32Array {
    if (this.graph.outputs.some((o) => o.name === name)) return new Float32Array(length);
    const b = this.free.get(length)?.pop() ?? new Float32Array(length);
    this.owned.add(b);
    return b;
  }

  /** Takes back the array of a value no one reads any more, if it is one of this session's. */
  private recycle(t: Tensor | undefined): void {
    if (!(t?.data instanceof Float32Array) || !this.owned.has(t.data)) return;
    this.owned.delete(t.data);
    const list = this.free.get(t.data.length);
    if (list) list.push(t.data);
    else this.free.set(t.data.length, [t.data]);
  }

  async release(): Promise<void> {
    this.free.clear();
    await releaseAll(this.stages);
  }
}

/** What runs a whole graph: a Session, or a SegmentedSession for graphs with native nodes. */
export interface GraphRunner {
  run(feeds: Feeds, outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** A SegmentedSession when the model has native nodes, otherwise one ONNX Runtime Session. */
export function createRunner(model: Model, options: SessionOptions = {}): Promise<GraphRunner> {
  return hasNativeNodes(model) ? SegmentedSession.create(model, options) : Session.create(model, options);
}
