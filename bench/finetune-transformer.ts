/**
 * (d) Fine-tune step throughput of a 6-layer, d=384, 12-head transformer encoder (FFN 1536, erf GELU, post-LN),
 * batch 32 × 128 positions of float inputs, mean-pooled → Linear(384, 10), softmax CE, AdamW, every weight
 * trained. The model is plain torch (bench/peers/transformer_encoder.py) exported to ONNX (opset 17) into a
 * temp dir and loaded by graft with loadModel, so both sides start from identical weights; graft builds the
 * backward graph with its autodiff and runs forward + backward as one ONNX Runtime session, AdamW in TS.
 * PyTorch 1.13 runs through ../shared/peers/run_pt_tuned.sh; rounds interleave; medians and the ratio.
 *
 * Usage: npx tsx bench/finetune-transformer.ts [--rounds 3] [--steps 3] [--threads 2]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addSoftmaxCrossEntropy, buildTrainingGraph } from '../src/autodiff/index.js';
import { GraphBuilder } from '../src/onnx/builder.js';
import { loadModel } from '../src/onnx/io.js';
import { Session } from '../src/runtime/session.js';
import type { Tensor } from '../src/tensor.js';
import { AdamW } from '../src/train/index.js';
import { arg, median, PEERS } from './text-common.js';

const rounds = arg('rounds', 3);
const steps = arg('steps', 3);
const threads = arg('threads', 2);
const [B, T, D, CLASSES] = [32, 128, 384, 10];
const LAUNCH = join(PEERS, '..', '..', '..', 'shared', 'peers', 'run_pt_tuned.sh');
const SCRIPT = join(PEERS, 'transformer_encoder.py');

const dir = mkdtempSync(join(tmpdir(), 'graft-bench-encoder-'));
execFileSync(LAUNCH, [SCRIPT, 'export', dir], { stdio: ['ignore', 'ignore', 'ignore'] });
const model = await loadModel(join(dir, 'model.onnx'));

const g = model.graph;
const params = [...g.initializers]
  .filter(([, t]) => t.dtype === 'float32' && t.data.length > 1)
  .map(([name]) => name);
const b = new GraphBuilder(g);
const labelsName = b.input('labels', 'int64', [B]);
const loss = addSoftmaxCrossEntropy(b, g.outputs[0]!.name, labelsName, CLASSES);
b.output(loss, 'float32', []);
const training = buildTrainingGraph(model, { params, loss });
const session = await Session.create(training.model, { threads, spinWait: false, validate: false });
const values = new Map(
  params.map((p) => [p, Float32Array.from(g.initializers.get(p)!.data as Float32Array)]),
);
const count = params.reduce((a, p) => a + values.get(p)!.length, 0);
console.log(`(d) encoder: ${(count / 1e6).toFixed(1)}M trainable params in ${params.length} tensors`);

let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
const feeds: Record<string, Tensor> = {
  [g.inputs[0]!.name]: {
    dtype: 'float32',
    shape: [B, T, D],
    data: Float32Array.from({ length: B * T * D }, rnd),
  },
  labels: {
    dtype: 'int64',
    shape: [B],
    data: BigInt64Array.from({ length: B }, (_, i) => BigInt(i % CLASSES)),
  },
};
for (const p of params)
  feeds[p] = { dtype: 'float32', shape: [...g.initializers.get(p)!.shape], data: values.get(p)! };
const optimizer = new AdamW({ lr: 1e-4, weightDecay: 0.01 });
const outputs = [training.loss, ...params.map((p) => training.gradients[p]!)];
const parts = { ort: [] as number[], optimizer: [] as number[] };

async function graftStep(): Promise<number> {
  const t0 = performance.now();
  const out = await session.run(feeds, outputs);
  const grads = new Map(params.map((p) => [p, out[training.gradients[p]!]!.data as Float32Array]));
  const t1 = performance.now();
  optimizer.step(values, grads);
  const t2 = performance.now();
  parts.ort.push((t1 - t0) / 1000);
  parts.optimizer.push((t2 - t1) / 1000);
  return (t2 - t0) / 1000;
}

// Three warm-up steps: ONNX Runtime's arena grows on the first run and its memory pattern settles on the second.
for (let i = 0; i < 3; i++) await graftStep();
const graft: number[] = [];
const torch: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (let s = 0; s < steps; s++) graft.push(await graftStep());
  const out = execFileSync(LAUNCH, [SCRIPT, 'steps', String(threads), '3', String(steps)], {
    encoding: 'utf8',
  });
  torch.push(...(JSON.parse(out.trim().split('\n').at(-1)!) as { step_s: number[] }).step_s);
}
const gm = median(graft);
const tm = median(torch);
console.log(
  `(d) graft ${(B / gm).toFixed(2)} seq/s (${gm.toFixed(2)} s/step), PyTorch ${(B / tm).toFixed(2)} seq/s ` +
    `(${tm.toFixed(2)} s/step), ratio ${(tm / gm).toFixed(2)}x; graft parts: ORT fwd+bwd ` +
    `${median(parts.ort.slice(3)).toFixed(2)} s, AdamW ${median(parts.optimizer.slice(3)).toFixed(2)} s`,
);
await session.release();
