/**
 * Forward throughput through graft's Session vs a raw onnxruntime-node InferenceSession made from the same
 * bytes: same batch, same threads, interleaved repetitions. Goal: graft ≥ 0.97× raw ORT.
 *
 *   node --import tsx bench/runtime-overhead.ts [model.onnx] [--batch 32] [--threads 2] [--reps 12] [--size 224]
 *
 * Without a model path it builds a MobileNetV2-shaped network (random weights, BN folded into conv biases,
 * as exported models are) with graft's GraphBuilder.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../src/onnx/builder.js';
import { createModel, type Model } from '../src/onnx/ir.js';
import { encodeModel, loadModel } from '../src/onnx/io.js';
import { Session } from '../src/runtime/session.js';
import { float32, sizeOf, tensor } from '../src/tensor.js';

function random(n: number, scale: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * scale;
  }
  return out;
}

/** MobileNetV2 (width 1.0): inverted residual blocks of 1×1 expand, 3×3 depthwise, 1×1 project. */
export function mobileNetV2(size: number): Model {
  const b = new GraphBuilder('mobilenet_v2_like');
  let seed = 1;
  const conv = (x: string, cin: number, cout: number, k: number, stride: number, group = 1, act = true) => {
    const fanIn = (cin / group) * k * k;
    const w = b.constant(
      'w',
      float32([cout, cin / group, k, k], random(cout * fanIn, Math.sqrt(3 / fanIn), seed++)),
    );
    const bias = b.constant('b', float32([cout], random(cout, 0.01, seed++)));
    const p = (k - 1) / 2;
    const y = b.op('Conv', [x, w, bias], {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints([p, p, p, p]),
      group: attr.int(group),
    });
    return act
      ? b.op('Clip', [y, b.constant('lo', float32([], [0])), b.constant('hi', float32([], [6]))])
      : y;
  };
  b.input('input', 'float32', ['batch', 3, size, size]);
  let x = conv('input', 3, 32, 3, 2);
  let c = 32;
  const settings: [number, number, number, number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, out, n, s] of settings) {
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = c * t;
      let h = t === 1 ? x : conv(x, c, hidden, 1, 1);
      h = conv(h, hidden, hidden, 3, stride, hidden);
      h = conv(h, hidden, out, 1, 1, 1, false);
      x = stride === 1 && c === out ? b.op('Add', [x, h]) : h;
      c = out;
    }
  }
  x = conv(x, c, 1280, 1, 1);
  const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [x])]);
  const fc = b.constant('fc', float32([1000, 1280], random(1280000, Math.sqrt(3 / 1280), seed++)));
  b.op(
    'Gemm',
    [pooled, fc, b.constant('fcb', float32([1000]))],
    { transB: attr.int(1) },
    { outputs: ['logits'] },
  );
  b.output('logits', 'float32', ['batch', 1000]);
  return createModel(b.graph, 13);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  ort.env.logLevel = 'error';
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      batch: { type: 'string', default: '32' },
      threads: { type: 'string', default: '2' },
      reps: { type: 'string', default: '12' },
      warmup: { type: 'string', default: '2' },
      size: { type: 'string', default: '224' },
    },
  });
  const batch = Number(values.batch);
  const threads = Number(values.threads);
  const reps = Number(values.reps);
  const size = Number(values.size);
  const path = positionals[0];
  const model = path ? await loadModel(path, { anyOpset: true }) : mobileNetV2(size);
  const bytes = encodeModel(model);
  const initializers = model.graph.initializers;
  const feeds = model.graph.inputs.filter((v) => !initializers.has(v.name));
  if (feeds.length !== 1)
    throw new Error(`expected a backbone with one input, got ${feeds.map((v) => v.name)}`);
  const input = feeds[0]!;
  // A model with a fixed batch dim runs at that batch.
  const dims = input.shape ?? [null, 3, size, size];
  const n = typeof dims[0] === 'number' ? dims[0] : batch;
  const shape = dims.map((d, i) => (i === 0 ? n : typeof d === 'number' ? d : size));
  const data = random(sizeOf(shape), 1, 42);

  const graft = await Session.create(model, { threads, interOpThreads: 1, optimization: 'all' });
  const raw = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  // Both sides wrap the same Float32Array per call without copying it.
  const x = tensor('float32', shape as number[], data);
  const runGraft = async () => graft.run({ [input.name]: x });
  const runRaw = async () => raw.run({ [input.name]: new ort.Tensor('float32', data, shape as number[]) });
  const time = async (f: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await f();
    return (performance.now() - t0) / 1000;
  };
  for (let i = 0; i < Number(values.warmup); i++) {
    await runGraft();
    await runRaw();
  }
  const tGraft: number[] = [];
  const tRaw: number[] = [];
  for (let r = 0; r < reps; r++) {
    // Alternate which one goes first so neither always runs on a warmer cache.
    if (r % 2 === 0) {
      tGraft.push(await time(runGraft));
      tRaw.push(await time(runRaw));
    } else {
      tRaw.push(await time(runRaw));
      tGraft.push(await time(runGraft));
    }
  }
  const ipsGraft = n / median(tGraft);
  const ipsRaw = n / median(tRaw);
  // Paired ratios are robust to load drifting during the run (shared machines).
  const paired = median(tRaw.map((t, i) => t / tGraft[i]!));
  const label = path ?? `built-in MobileNetV2-like ${size}x${size}`;
  console.log(
    `model: ${label}; input ${input.name} [${shape.join(', ')}]; threads ${threads}; ${reps} interleaved reps`,
  );
  console.log(
    `raw ort.InferenceSession : ${ipsRaw.toFixed(1)} images/s (median ${(median(tRaw) * 1000).toPrecision(3)} ms/batch)`,
  );
  console.log(
    `graft Session            : ${ipsGraft.toFixed(1)} images/s (median ${(median(tGraft) * 1000).toPrecision(3)} ms/batch)`,
  );
  console.log(
    `ratio graft/raw: ${(ipsGraft / ipsRaw).toFixed(3)} of medians, ${paired.toFixed(3)} median of paired reps (goal >= 0.97)`,
  );
  await graft.release();
  await raw.release();
}

await main();
