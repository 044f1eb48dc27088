/**
 * (d) Fine-tune step throughput of a 6-layer, d=384, 12-head transformer encoder (FFN 1536, erf GELU, post-LN),
 * batch 32 × 128 positions of float inputs, mean-pooled → Linear(384, 10), softmax CE, AdamW, every weight
 * trained. The model is plain torch (bench/peers/transformer_encoder.py) exported to ONNX (opset 17) into a
 * temp dir and loaded by graft with loadModel, so both sides start from identical weights; graft builds the
 * backward graph with its autodiff and runs forward + backward as one ONNX Runtime session, then AdamW.
 *
 * Fairness: each side runs in a fresh process every round (PyTorch 1.13 through ../shared/peers/run_pt_tuned.sh),
 * with the same warm-up (--warmup, default 3) and timed steps; the order alternates from round to round. Figures
 * are medians over all timed steps with their range, and the ratio of graft's throughput to PyTorch's.
 *
 * Usage: npx tsx bench/finetune-transformer.ts [--rounds 3] [--steps 3] [--warmup 3] [--threads 2]
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
import { alternate, nodeScript, pairedRatios, runChild, showSpread } from './util/rounds.js';

const rounds = arg('rounds', 3);
const steps = arg('steps', 3);
const warmup = arg('warmup', 3);
const threads = arg('threads', 2);
const [B, T, D, CLASSES] = [32, 128, 384, 10];
const LAUNCH = join(PEERS, '..', '..', '..', 'shared', 'peers', 'run_pt_tuned.sh');
const SCRIPT = join(PEERS, 'transformer_encoder.py');

interface Steps {
  step_s: number[];
  optimizer_s?: number[];
  params?: number;
}

/** One round of graft's side, in this (child) process. */
async function graftSide(dir: string): Promise<void> {
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
  // memoryPattern off, as TrainableGraph runs every training session (the pattern's block nearly doubles the peak)
  const session = await Session.create(training.model, {
    threads,
    spinWait: false,
    validate: false,
    memoryPattern: false,
  });
  const values = new Map(
    params.map((p) => [p, Float32Array.from(g.initializers.get(p)!.data as Float32Array)]),
  );
  const count = params.reduce((a, p) => a + values.get(p)!.length, 0);

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

  async function graftStep() {
    const t0 = performance.now();
    const out = await session.run(feeds, outputs);
    const grads = new Map(params.map((p) => [p, out[training.gradients[p]!]!.data as Float32Array]));
    const t1 = performance.now();
    optimizer.step(values, grads);
    const t2 = performance.now();
    return [(t2 - t0) / 1000, (t2 - t1) / 1000] as const;
  }
  for (let i = 0; i < warmup; i++) await graftStep();
  const out: Required<Steps> = { step_s: [], optimizer_s: [], params: count };
  for (let i = 0; i < steps; i++) {
    const [s, o] = await graftStep();
    out.step_s.push(s);
    out.optimizer_s.push(o);
  }
  await session.release();
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const given = arg('dir', '');
  if (arg('side', '') === 'graft') return graftSide(given);
  const dir = mkdtempSync(join(tmpdir(), 'graft-bench-encoder-'));
  execFileSync(LAUNCH, [SCRIPT, 'export', dir], { stdio: ['ignore', 'ignore', 'ignore'] });
  const [node, args] = nodeScript(import.meta.url, [
    ...['--side', 'graft', '--dir', dir, '--steps', String(steps)],
    ...['--warmup', String(warmup), '--threads', String(threads)],
  ]);
  const all = { graft: [] as number[], torch: [] as number[] };
  const opt: number[] = [];
  const rss = { graft: [] as number[], torch: [] as number[] };
  let count = 0;
  const res = await alternate(rounds, {
    graft: () => {
      const child = runChild<Steps>(node, args);
      if (child.peakRssMb !== undefined) rss.graft.push(child.peakRssMb);
      const r = child.value;
      all.graft.push(...r.step_s);
      opt.push(...r.optimizer_s!);
      count = r.params!;
      return median(r.step_s);
    },
    torch: () => {
      const child = runChild<Steps>(LAUNCH, [
        SCRIPT,
        'steps',
        String(threads),
        String(warmup),
        String(steps),
      ]);
      if (child.peakRssMb !== undefined) rss.torch.push(child.peakRssMb);
      const r = child.value;
      all.torch.push(...r.step_s);
      return median(r.step_s);
    },
  });
  const gm = median(all.graft);
  const tm = median(all.torch);
  console.log(
    `(d) encoder ${(count / 1e6).toFixed(1)}M trainable params; ${rounds} rounds, each side a fresh process with ` +
      `${warmup} warm-up + ${steps} timed steps`,
  );
  console.log(
    `(d) graft ${showSpread(all.graft)} s/step (${(B / gm).toFixed(2)} seq/s; AdamW ${showSpread(opt)} s), ` +
      `PyTorch ${showSpread(all.torch)} s/step (${(B / tm).toFixed(2)} seq/s); ratio ${(tm / gm).toFixed(2)}× of ` +
      `medians, per round ${showSpread(pairedRatios(res.torch, res.graft), 2)}; peak RSS graft ` +
      `${showSpread(rss.graft, 4)} MB, PyTorch ${showSpread(rss.torch, 4)} MB`,
  );
}

await main();
