/**
 * int8 on the 6-layer text encoder (MiniLM-L6 sized, built as an ONNX graph: bench/util/bert-graph.ts): the
 * float model against graft's dynamic quantization (MatMul weights int8, activations quantized on each run) and
 * static QDQ (calibrated), each quantized by quantizeModel as `graft quantize` does. Every variant runs in its
 * own ONNX Runtime session (all graph optimizations, the same threads) on the same token batches; rounds rotate
 * the order. Prints sequences/s (median and range), the ratio of medians to fp32, the relative L2 error of the
 * first token's state against fp32, and with --profile each variant's kernel time by op type (ORT's profiler),
 * which shows what is left in float (ms per batch; op types under 0.5% left out).
 *
 *   node --import tsx bench/int8-text.ts [--rounds 3] [--batches 2] [--batch 32] [--tokens 128] [--threads 2]
 *        [--variants fp32,dynamic,static,dynamic-attention] [--profile]
 *
 * `dynamic-attention` is the dynamic model with the attention's activation × activation MatMuls quantized too
 * (DynamicQuantizeLinear on both inputs → MatMulInteger → scales), as ONNX Runtime's tool does; graft does not.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../src/data/random.js';
import { attr, GraphBuilder } from '../src/onnx/builder.js';
import { cloneModel, type Model, type Node } from '../src/onnx/ir.js';
import { topoSort } from '../src/onnx/topo.js';
import { encodeModel } from '../src/onnx/io.js';
import { quantizeModel, type QuantizeOptions } from '../src/quantize/quantize.js';
import { int64, type Tensor } from '../src/tensor.js';
import { bertGraph, MINILM_L6 } from './util/bert-graph.js';
import { profileKernels } from './util/ort-profile.js';
import { alternate, pairedRatios, showSpread } from './util/rounds.js';
import { fmt, median } from './util/stats.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    batches: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
    tokens: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    variants: { type: 'string', default: 'fp32,dynamic,static' },
    profile: { type: 'boolean', default: false },
  },
});
const [B, T, THREADS] = [Number(args.batch), Number(args.tokens), Number(args.threads)];

/** Random token batches: ids in [5, vocab), every position attended, one segment. */
function tokenBatches(count: number, seed: number): Record<string, Tensor>[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => ({
    input_ids: int64(
      [B, T],
      Array.from({ length: B * T }, () => 5 + Math.floor(rng() * (MINILM_L6.vocab - 5))),
    ),
    attention_mask: int64([B, T], new Array<number>(B * T).fill(1)),
    token_type_ids: int64([B, T], new Array<number>(B * T).fill(0)),
  }));
}

const fp32 = bertGraph();
const feeds = tokenBatches(Number(args.batches), 1);
const calibration = tokenBatches(4, 2).map((f) =>
  // Calibrate on smaller batches (every activation of a batch is fetched at once).
  Object.fromEntries(
    Object.entries(f).map(([k, t]) => [k, int64([8, T], (t.data as BigInt64Array).subarray(0, 8 * T))]),
  ),
);
const batches = async function* () {
  for (const f of calibration) yield f;
};

/** `model` with every MatMul of two computed inputs run as MatMulInteger on dynamically quantized inputs. */
function quantizeActivationMatMuls(model: Model): Model {
  const m = cloneModel(model);
  const g = m.graph;
  const b = new GraphBuilder(g);
  const targets = new Set(
    g.nodes.filter(
      (n) => n.opType === 'MatMul' && !g.initializers.has(n.inputs[0]!) && !g.initializers.has(n.inputs[1]!),
    ),
  );
  const added: Node[] = [];
  const push = (opType: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): void => {
    added.push({ name: b.unique(`${outputs[0]}_${opType}`), opType, domain: '', inputs, outputs, attrs });
  };
  const quantized = new Map<string, string[]>();
  const dynamic = (x: string): string[] => {
    let q = quantized.get(x);
    if (!q) {
      q = [b.unique(`${x}_quantized`), b.unique(`${x}_scale`), b.unique(`${x}_zero_point`)];
      push('DynamicQuantizeLinear', [x], q);
      quantized.set(x, q);
    }
    return q;
  };
  for (const n of targets) {
    const [a, c] = [dynamic(n.inputs[0]!), dynamic(n.inputs[1]!)];
    const y = n.outputs[0]!;
    const [i32, f, scale] = [b.unique(`${y}_int32`), b.unique(`${y}_unscaled`), b.unique(`${y}_scale`)];
    push('MatMulInteger', [a[0]!, c[0]!, a[2]!, c[2]!], [i32]);
    push('Cast', [i32], [f], { to: attr.int(1) });
    push('Mul', [a[1]!, c[1]!], [scale]);
    push('Mul', [f, scale], [y]);
  }
  g.nodes = [...g.nodes.filter((n) => !targets.has(n)), ...added];
  g.nodes = topoSort(g);
  return m;
}

const models: Record<string, Model> = { fp32 };
const quantizeSeconds: Record<string, number> = {};
for (const v of args.variants.split(',')) {
  if (v === 'fp32') continue;
  if (v !== 'dynamic' && v !== 'static' && v !== 'dynamic-attention') throw new Error(`unknown variant ${v}`);
  const t = performance.now();
  const options: Partial<QuantizeOptions> = { mode: v === 'static' ? 'static' : 'dynamic' };
  const q = (await quantizeModel(fp32, batches, options)).model;
  models[v] = v === 'dynamic-attention' ? quantizeActivationMatMuls(q) : q;
  quantizeSeconds[v] = (performance.now() - t) / 1000;
}
const names = Object.keys(models);

const sessions: Record<string, ort.InferenceSession> = {};
for (const name of names)
  sessions[name] = await ort.InferenceSession.create(encodeModel(models[name]!), {
    intraOpNumThreads: THREADS,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
const ortFeeds = feeds.map((f) =>
  Object.fromEntries(Object.entries(f).map(([k, t]) => [k, new ort.Tensor('int64', t.data, [...t.shape])])),
);

async function run(name: string): Promise<{ rate: number; features: Float32Array[] }> {
  const s = sessions[name]!;
  const features: Float32Array[] = [];
  const t0 = performance.now();
  for (const f of ortFeeds) features.push((await s.run(f))['features']!.data as Float32Array);
  return { rate: (B * ortFeeds.length) / ((performance.now() - t0) / 1000), features };
}

const load0 = loadavg();
for (const name of names) await run(name); // warm-up
const last: Record<string, Float32Array[]> = {};
const rounds = await alternate(
  Number(args.rounds),
  Object.fromEntries(
    names.map((n) => [
      n,
      async () => {
        const r = await run(n);
        last[n] = r.features;
        return r.rate;
      },
    ]),
  ),
  (r, got) =>
    console.error(
      `round ${r + 1}: ${names.map((n) => `${n} ${fmt(got[n]!)}`).join(', ')} seq/s (load ${loadavg()[0]!.toFixed(1)})`,
    ),
);

function relativeError(a: Float32Array[], b: Float32Array[]): number {
  let d = 0;
  let n = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    for (let j = 0; j < x.length; j++) {
      d += (x[j]! - y[j]!) ** 2;
      n += x[j]! ** 2;
    }
  });
  return Math.sqrt(d / n);
}

/** Kernel time per op type (ms per batch, and the total), from one profiled pass over the batches. */
async function profile(name: string): Promise<Record<string, number>> {
  return (await profileKernels(models[name]!, ortFeeds, THREADS)).byOp;
}

async function profiles(): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const n of names) out[n] = await profile(n);
  return out;
}

const fpMedian = median(rounds['fp32'] ?? [NaN]);
const report = {
  encoder: `${MINILM_L6.layers} layers, d=${MINILM_L6.hidden}, ${MINILM_L6.heads} heads, FFN ${MINILM_L6.intermediate} (random weights)`,
  batch: B,
  tokens: T,
  batches: feeds.length,
  threads: THREADS,
  variants: Object.fromEntries(
    names.map((n) => [
      n,
      {
        sequencesPerSecond: showSpread(rounds[n]!),
        ratioToFp32: Number((median(rounds[n]!) / fpMedian).toFixed(3)),
        pairedRatiosToFp32: rounds['fp32'] ? showSpread(pairedRatios(rounds[n]!, rounds['fp32'])) : 'n/a',
        featureRelativeError: n === 'fp32' ? 0 : Number(relativeError(last['fp32']!, last[n]!).toFixed(4)),
        bytes: encodeModel(models[n]!).byteLength,
        quantizeSeconds: quantizeSeconds[n] ?? 0,
      },
    ]),
  ),
  loadAverage: { start: load0, end: loadavg() },
  ...(args.profile
    ? {
        kernelTimeShare: await profiles(),
      }
    : {}),
};
for (const s of Object.values(sessions)) await s.release();
console.log(JSON.stringify(report, null, 2));
