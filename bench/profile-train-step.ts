/**
 * Where a MobileNetV2 training step's time goes inside ONNX Runtime: builds the training graph of
 * bench/finetune-train-step.ts's case (b: blocks 14-16 + Conv_1 + head on 32x160x7x7, or c: the whole network at
 * 224x224; frozen BN), runs it in a raw InferenceSession with ONNX Runtime's profiler on (graft's training-session
 * options, 2 threads), and prints the kernel time per op type and the slowest nodes, over
 * the runs after the warm-up.
 *
 * Usage: npx tsx bench/profile-train-step.ts [case=b] [runs=4] [top=15]
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { mulberry32 } from '../src/data/random.js';
import { loadBackbone } from '../src/models/registry.js';
import { getAttr } from '../src/onnx/ir.js';
import { encodeModel } from '../src/onnx/io.js';
import { BackboneTrainable } from '../src/strategies/finetune/backbone-trainable.js';
import { TRAINING_SESSION } from '../src/learner/trainable-graph.js';
import { ortSessionOptions } from '../src/runtime/session.js';

const [c = 'b', runsArg = '4', topArg = '15'] = process.argv.slice(2);
const B = 32;

const bb = await loadBackbone('npm:nsfwjs/mobilenet_v2');
const m = await BackboneTrainable.create({
  backbone: bb.model,
  inputName: 'input_1',
  inputShape: [224, 224, 3],
  featureTensor: 'flatten_1',
  numClasses: 10,
  unfreeze: c === 'c' ? 'all' : 'last:3',
  bnMode: 'frozen',
  seed: 0,
  session: { threads: 2 },
});
const training = m.training;
const u = mulberry32(1);
const feeds: Record<string, ort.Tensor> = {};
for (const v of training.graph.inputs) {
  const dims = (v.shape ?? []).map((d) => (typeof d === 'number' ? d : B));
  const param = m.params.get(v.name);
  if (param) feeds[v.name] = new ort.Tensor('float32', param, dims);
  else if (v.dtype === 'int64')
    feeds[v.name] = new ort.Tensor(
      'int64',
      BigInt64Array.from({ length: B }, (_, i) => BigInt(i % 10)),
      [B],
    );
  else
    feeds[v.name] = new ort.Tensor(
      'float32',
      Float32Array.from({ length: B * 3 * 224 * 224 }, u).subarray(
        0,
        dims.reduce((a, b) => a * b, 1),
      ),
      dims,
    );
}
const session = await ort.InferenceSession.create(encodeModel(training), {
  ...ortSessionOptions({ ...TRAINING_SESSION, threads: 2 }),
  enableProfiling: true,
  profileFilePrefix: join(tmpdir(), `graft-profile-${c}-${process.pid}`),
});
const outputs = training.graph.outputs.map((o) => o.name);
const runs = Number(runsArg);
const warm = 2;
const walls: number[] = [];
for (let i = 0; i < warm + runs; i++) {
  const t0 = performance.now();
  await session.run(feeds, outputs);
  if (i >= warm) walls.push(performance.now() - t0);
}
session.endProfiling();
const prefix = `graft-profile-${c}-${process.pid}`;
const file = join(
  tmpdir(),
  readdirSync(tmpdir()).find((f) => f.startsWith(prefix) && f.endsWith('.json'))!,
);
await session.release();
await m.release();

interface Event {
  cat: string;
  name: string;
  dur: number;
  args?: { op_name?: string };
}
const events = (JSON.parse(readFileSync(file, 'utf8')) as Event[]).filter(
  (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time'),
);
rmSync(file, { force: true });
// The profile covers every run; keep the last `runs` runs' share (each run has the same nodes).
const perRun = events.length / (warm + runs);
const measured = events.slice(Math.round(perRun * warm));
const total = measured.reduce((a, e) => a + e.dur, 0);
const byOp = new Map<string, number>();
const byNode = new Map<string, { op: string; us: number }>();
// Grouped (depthwise) Conv / ConvTranspose nodes: the forward and both gradients of the depthwise layers.
const grouped = new Set(
  training.graph.nodes.filter((n) => (getAttr(n, 'group', 'int') ?? 1) > 1).map((n) => n.name),
);
let groupedUs = 0;
for (const e of measured) {
  if (grouped.has(e.name.replace(/_kernel_time$/, ''))) groupedUs += e.dur;
  const op = e.args?.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
  const n = byNode.get(e.name) ?? { op, us: 0 };
  n.us += e.dur;
  byNode.set(e.name, n);
}
const ms = (us: number) => (us / 1000 / runs).toFixed(1);
console.log(
  `case (${c}): ${training.graph.nodes.length} graph nodes, ${perRun} kernels per run; wall ${walls.map((w) => w.toFixed(0)).join(' ')} ms per run; kernel time ${ms(total)} ms per run`,
);
console.log(
  `grouped (depthwise) Conv/ConvTranspose nodes: ${grouped.size}, ${ms(groupedUs)} ms per run (${((100 * groupedUs) / total).toFixed(1)}% of kernel time)`,
);
console.log('per op type (ms per run, share of kernel time):');
for (const [op, us] of [...byOp].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg)))
  console.log(`  ${op.padEnd(28)} ${ms(us).padStart(8)}  ${((100 * us) / total).toFixed(1)}%`);
console.log('slowest nodes:');
for (const [name, n] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, Number(topArg)))
  console.log(`  ${name.replace(/_kernel_time$/, '').padEnd(60)} ${n.op.padEnd(18)} ${ms(n.us).padStart(8)}`);
