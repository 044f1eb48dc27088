/**
 * Fine-tune step throughput, 6-layer d=384 BERT-like encoder, batch 32 × 128 tokens, all weights trained, 3-label
 * CLS head with dropout, AdamW + clipping: graft (ORT forward+backward, optimizer in TypeScript) vs PyTorch 1.13
 * (bench/peers/text_finetune_pt.py through ../shared/peers/run_pt_tuned.sh), interleaved rounds, medians.
 *
 * Usage: node --import tsx bench/text-finetune.ts [--rounds 3] [--steps 2] [--threads 2] [--encoder <dir>]
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadTextEncoder } from '../src/text/encoder.js';
import { noDecayParams, SequenceClassifier } from '../src/text/finetune/index.js';
import { AdamW, clipGradNorm } from '../src/train/index.js';
import type { Tensor } from '../src/tensor.js';
import { arg, encoderDir, median, PEERS } from './text-common.js';

const rounds = arg('rounds', 3);
const steps = arg('steps', 2);
const threads = arg('threads', 2);
const ptRunner = arg('pt', join(PEERS, '..', '..', '..', 'shared', 'peers', 'run_pt_tuned.sh'));
const B = 32;
const T = 128;

const dir = encoderDir();
const encoder = await loadTextEncoder(`file:${dir}`);
const model = await SequenceClassifier.create(encoder.model, {
  numClasses: 3,
  unfreeze: 'all',
  dropout: 0.1,
  session: { threads },
});
const names = [...model.params.keys()];
const optimizer = new AdamW({
  lr: 2e-5,
  weightDecay: 0.01,
  groups: [{ params: noDecayParams(model.inferenceModel, names), weightDecay: 0 }],
});
let seed = 1;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const ids = BigInt64Array.from({ length: B * T }, () => BigInt(5 + Math.floor(rnd() * 473)));
const int64 = (data: BigInt64Array): Tensor => ({ dtype: 'int64', shape: [B, T], data });
const batch = {
  inputs: {
    input_ids: int64(ids),
    attention_mask: int64(new BigInt64Array(B * T).fill(1n)),
    token_type_ids: int64(new BigInt64Array(B * T)),
  },
  labels: Int32Array.from({ length: B }, () => Math.floor(rnd() * 3)),
};
const params = names.reduce((a, n) => a + model.params.get(n)!.length, 0);
console.log(
  `encoder ${dir}: ${(params / 1e6).toFixed(1)}M trainable params, batch ${B}×${T}, ${threads} threads`,
);

const parts = { ort: [] as number[], optimizer: [] as number[] };
async function graftStep(): Promise<number> {
  const t0 = performance.now();
  const { gradients } = await model.computeGradients(batch);
  const t1 = performance.now();
  clipGradNorm(gradients, 1);
  optimizer.step(model.params, gradients);
  const t2 = performance.now();
  parts.ort.push((t1 - t0) / 1000);
  parts.optimizer.push((t2 - t1) / 1000);
  return (t2 - t0) / 1000;
}

// Two warm-up steps: ONNX Runtime grows its memory pool on the first run and faults it in on the second.
await graftStep();
await graftStep();
parts.ort.length = parts.optimizer.length = 0;
const graft: number[] = [];
const torch: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (let s = 0; s < steps; s++) graft.push(await graftStep());
  const out = execFileSync(
    ptRunner,
    [join(PEERS, 'text_finetune_pt.py'), String(threads), '1', String(steps)],
    {
      cwd: PEERS,
      encoding: 'utf8',
    },
  );
  const line = out.trim().split('\n').at(-1)!;
  torch.push(...(JSON.parse(line) as { step_s: number[] }).step_s);
  console.log(
    `round ${r + 1}: graft ${graft.slice(-steps).map((x) => x.toFixed(2))} s/step, ` +
      `torch ${torch.slice(-steps).map((x) => x.toFixed(2))} s/step`,
  );
}
const g = median(graft);
const t = median(torch);
console.log(
  `graft: ${(B / g).toFixed(2)} seq/s (median ${g.toFixed(2)} s/step: ORT fwd+bwd ${median(parts.ort).toFixed(2)} s, ` +
    `clip+AdamW ${median(parts.optimizer).toFixed(2)} s)`,
);
console.log(`PyTorch: ${(B / t).toFixed(2)} seq/s (median ${t.toFixed(2)} s/step)`);
console.log(`ratio graft/PyTorch throughput: ${(t / g).toFixed(2)}× (goal ≥ 1.0)`);
await model.release();
