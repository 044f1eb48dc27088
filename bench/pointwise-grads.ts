/**
 * The 1×1 Conv gradient formulations graft's autodiff chooses between (src/autodiff/rules/conv.ts), timed in
 * ONNX Runtime on one shape, alternating within each round (2 threads, graft's training-session options):
 *   dX: ConvTranspose(g, W) vs Conv(g, W with its channel axes swapped);
 *   dW: Transpose both to channel-major + one Gemm vs one MatMul per image + ReduceSum over the batch.
 * Prints each formulation's median ms over the rounds with the range, and the largest difference between them.
 *
 *   node --import tsx bench/pointwise-grads.ts [--shape N,O,I,HW] [--rounds 5]
 *   e.g. --shape 32,1280,320,7 (Conv_1 of MobileNetV2 at 224: O 1280, I 320, 7×7) or 32,24,144,56
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { attr, GraphBuilder } from '../src/onnx/builder.js';
import { createModel } from '../src/onnx/ir.js';
import { encodeModel } from '../src/onnx/io.js';
import { TRAINING_SESSION } from '../src/learner/trainable-graph.js';
import { ortSessionOptions } from '../src/runtime/session.js';
import { showSpread } from './util/rounds.js';

const { values } = parseArgs({
  options: { shape: { type: 'string', default: '32,1280,320,7' }, rounds: { type: 'string', default: '5' } },
});
const [N, O, I, H] = values.shape.split(',').map(Number) as [number, number, number, number];
const ints = (b: GraphBuilder, v: number[]) =>
  b.constant(b.unique('shape'), {
    dtype: 'int64',
    shape: [v.length],
    data: BigInt64Array.from(v.map(BigInt)),
  });

type Build = (b: GraphBuilder) => void;
const formulations: Record<string, Build> = {
  'dX ConvTranspose': (b) => b.op('ConvTranspose', ['g', 'w'], {}, { outputs: ['out'] }),
  'dX Conv, W swapped': (b) =>
    b.op(
      'Conv',
      ['g', b.op('Transpose', ['w'], { perm: attr.ints([1, 0, 2, 3]) })],
      {},
      { outputs: ['out'] },
    ),
  'dW Transpose + Gemm': (b) => {
    const perm = attr.ints([1, 0, 2, 3]);
    const gt = b.op('Reshape', [b.op('Transpose', ['g'], { perm }), ints(b, [O, -1])]);
    const xt = b.op('Reshape', [b.op('Transpose', ['x'], { perm }), ints(b, [I, -1])]);
    b.op('Gemm', [gt, xt], { transB: attr.int(1) }, { outputs: ['out'] });
  },
  'dW MatMul per image': (b) => {
    const g3 = b.op('Reshape', ['g', ints(b, [N, O, H * H])]);
    const x3 = b.op('Reshape', ['x', ints(b, [N, I, H * H])]);
    const mm = b.op('MatMul', [g3, b.op('Transpose', [x3], { perm: attr.ints([0, 2, 1]) })]);
    b.op('ReduceSum', [mm, ints(b, [0])], { keepdims: attr.int(0) }, { outputs: ['out'] });
  },
};

async function session(build: Build, inputs: string[]): Promise<ort.InferenceSession> {
  const b = new GraphBuilder('grad');
  if (inputs.includes('g')) b.input('g', 'float32', [N, O, H, H]);
  if (inputs.includes('w')) b.input('w', 'float32', [O, I, 1, 1]);
  if (inputs.includes('x')) b.input('x', 'float32', [N, I, H, H]);
  build(b);
  b.output('out', 'float32');
  return ort.InferenceSession.create(
    encodeModel(createModel(b.graph, 17)),
    ortSessionOptions({ ...TRAINING_SESSION, threads: 2 }),
  );
}

const wave = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
const feeds = {
  g: new ort.Tensor('float32', wave(N * O * H * H, Math.sin), [N, O, H, H]),
  w: new ort.Tensor('float32', wave(O * I, Math.cos), [O, I, 1, 1]),
  x: new ort.Tensor(
    'float32',
    wave(N * I * H * H, (i) => Math.cos(3 * i)),
    [N, I, H, H],
  ),
};
const sides = await Promise.all(
  Object.entries(formulations).map(async ([name, build]) => {
    const inputs = name.startsWith('dX') ? ['g', 'w'] : ['g', 'x'];
    const s = await session(build, inputs);
    const feed = Object.fromEntries(inputs.map((k) => [k, feeds[k as keyof typeof feeds]]));
    const run = async () => (await s.run(feed))['out']!.data as Float32Array;
    return { name, run, out: await run(), ms: [] as number[] };
  }),
);
for (let r = 0; r < Number(values.rounds); r++)
  for (const side of sides) {
    const t = performance.now();
    for (let k = 0; k < 5; k++) await side.run();
    side.ms.push((performance.now() - t) / 5);
  }
const diff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
console.log(`1×1 Conv gradients, g [${N}, ${O}, ${H}, ${H}], x [${N}, ${I}, ${H}, ${H}], 2 threads`);
for (const side of sides) console.log(`  ${side.name.padEnd(22)} ${showSpread(side.ms)} ms`);
console.log(
  `  max |difference|: dX ${diff(sides[0]!.out, sides[1]!.out)}, dW ${diff(sides[2]!.out, sides[3]!.out)}`,
);
