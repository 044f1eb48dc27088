/**
 * Finite-difference gradient checker. Builds a small forward graph, reduces its outputs to a scalar loss with
 * fixed random weights (loss = sum_i <out_i, R_i>), builds the training graph with graft's autodiff, runs it
 * in ONNX Runtime, and compares every param element's gradient with central differences of the loss.
 */
import { buildTrainingGraph, type TrainingGraphOptions } from '../../src/autodiff/index.js';
import { attr, GraphBuilder } from '../../src/onnx/builder.js';
import { cloneModel, createModel, type Dim, type Model } from '../../src/onnx/ir.js';
import { createRunner } from '../../src/runtime/segmented-session.js';
import { Session } from '../../src/runtime/session.js';
import type { Tensor } from '../../src/tensor.js';

export type FloatDType = 'float32' | 'float64';

export interface ParamSpec {
  shape: number[];
  values?: number[];
  /** normal: N(0,1); positive: U[0.5, 2]; away: |x| in [0.2, 1.2] with random sign (away from kinks). */
  kind?: 'normal' | 'positive' | 'away';
}

export interface InputSpec extends ParamSpec {
  /** Declared shape (may contain symbolic dims); defaults to `shape`. */
  declared?: Dim[];
  dtype?: FloatDType | 'int64' | 'bool';
}

export interface GradCheckOptions {
  params: Record<string, ParamSpec>;
  inputs?: Record<string, InputSpec>;
  /** Builds the forward graph; returns the output(s) to differentiate. */
  build: (b: GraphBuilder, dtype: FloatDType) => string | string[];
  dtype?: FloatDType;
  opset?: number;
  seed?: number;
  step?: number;
  tolerance?: number;
  training?: Partial<TrainingGraphOptions>;
  /** Record the outputs' shapes as value_info (static shapes; needed for broadcasting in opsets < 13). */
  declareOutputShapes?: boolean;
}

export interface GradCheckResult {
  /** Per param: max |analytic - numeric| / max(1e-2, max |numeric|). */
  errors: Record<string, number>;
  maxError: number;
  dtype: FloatDType;
  model: Model;
}

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomValues(spec: ParamSpec, rand: () => number): number[] {
  if (spec.values) return spec.values;
  const n = spec.shape.reduce((a, d) => a * d, 1);
  return Array.from({ length: n }, () => {
    if (spec.kind === 'positive') return 0.5 + 1.5 * rand();
    if (spec.kind === 'away') return (rand() < 0.5 ? -1 : 1) * (0.2 + rand());
    const u = Math.max(rand(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  });
}

export function makeTensor(dtype: InputSpec['dtype'] & string, shape: number[], values: number[]): Tensor {
  if (dtype === 'int64') return { dtype, shape, data: BigInt64Array.from(values, (v) => BigInt(v)) };
  if (dtype === 'bool') return { dtype, shape, data: Uint8Array.from(values) };
  if (dtype === 'float64') return { dtype, shape, data: Float64Array.from(values) };
  return { dtype: 'float32', shape, data: Float32Array.from(values) };
}

export async function checkGradients(options: GradCheckOptions): Promise<GradCheckResult> {
  const dtype = options.dtype ?? 'float64';
  const rand = rng(options.seed ?? 1);
  const b = new GraphBuilder('fd');
  const feeds: Record<string, Tensor> = {};
  for (const [name, spec] of Object.entries(options.inputs ?? {})) {
    const dt = spec.dtype ?? dtype;
    b.input(name, dt, spec.declared ?? spec.shape);
    feeds[name] = makeTensor(dt, spec.shape, randomValues(spec, rand));
  }
  const params = Object.keys(options.params);
  for (const [name, spec] of Object.entries(options.params)) {
    b.initializer(name, makeTensor(dtype, spec.shape, randomValues(spec, rand)));
  }
  const built = options.build(b, dtype);
  const outs = typeof built === 'string' ? [built] : built;
  const opset = options.opset ?? 17;

  // Run the forward graph once to learn the output shapes, then weight each output randomly.
  for (const o of outs) b.output(o);
  const probe = await Session.create(cloneModel(createModel(b.graph, opset)));
  const shapes = await probe.run(feeds);
  await probe.release();
  b.graph.outputs = [];
  const terms = outs.map((o) => {
    const shape = [...shapes[o]!.shape];
    if (options.declareOutputShapes) b.graph.valueInfo.set(o, { name: o, dtype, shape });
    const r = b.constant('fd_r', makeTensor(dtype, shape, randomValues({ shape }, rand)));
    return b.op('ReduceSum', [b.op('Mul', [o, r])], { keepdims: attr.int(0) });
  });
  const loss = terms.length === 1 ? terms[0]! : b.op('Sum', terms);
  b.output(loss, dtype, []);
  const model = createModel(b.graph, opset);

  const tg = buildTrainingGraph(model, { params, loss, ...options.training });
  const session = await createRunner(tg.model, { threads: 1 });
  const paramFeeds: Record<string, Tensor> = {};
  for (const p of params) paramFeeds[p] = model.graph.initializers.get(p)!;
  const result = await session.run({ ...feeds, ...paramFeeds });
  await session.release();

  // The forward model with the params as inputs, for the finite differences.
  const fwd = cloneModel(model);
  for (const p of params) {
    const t = fwd.graph.initializers.get(p)!;
    fwd.graph.initializers.delete(p);
    fwd.graph.inputs.push({ name: p, dtype: t.dtype, shape: [...t.shape] });
  }
  const fs = await Session.create(fwd, { threads: 1 });
  const h = options.step ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  const errors: Record<string, number> = {};
  for (const p of params) {
    const base = paramFeeds[p]!;
    const analytic = result[tg.gradients[p]!]!.data as Float64Array | Float32Array;
    const numeric: number[] = [];
    for (let i = 0; i < base.data.length; i++) {
      const evalAt = async (delta: number): Promise<number> => {
        const data = (base.data as Float64Array).slice();
        data[i]! += delta;
        const out = await fs.run({ ...feeds, ...paramFeeds, [p]: { ...base, data } });
        return Number(out[loss]!.data[0]);
      };
      numeric.push(((await evalAt(h)) - (await evalAt(-h))) / (2 * h));
    }
    const scale = Math.max(1e-2, ...numeric.map(Math.abs));
    errors[p] = Math.max(0, ...numeric.map((n, i) => Math.abs(n - analytic[i]!))) / scale;
    if (analytic.length !== numeric.length) errors[p] = Infinity;
  }
  await fs.release();
  const maxError = Math.max(0, ...Object.values(errors));
  const tol = options.tolerance ?? (dtype === 'float64' ? 1e-6 : 1e-2);
  if (!(maxError <= tol)) {
    throw new Error(`gradient check failed (${dtype}): errors ${JSON.stringify(errors)} > ${tol}`);
  }
  return { errors, maxError, dtype, model: tg.model };
}
