/**
 * Fine-tune step throughput, 6-layer d=384 BERT-like encoder, batch 32 × 128 tokens, all weights trained, 3-label
 * CLS head with dropout, AdamW + clipping: graft (ORT forward+backward, clip + AdamW after it) vs PyTorch 1.13
 * (bench/peers/text_finetune_pt.py through ../shared/peers/run_pt_tuned.sh).
 *
 * Fairness: each side runs in a fresh process every round, with the same warm-up steps (--warmup, default 2:
 * ONNX Runtime grows its memory pool on the first run and faults it in on the second) and the same timed steps;
 * the order of the sides alternates from round to round. Figures are medians over all timed steps with their
 * range; the ratio is graft / PyTorch throughput, of medians and per round (round medians).
 *
 * Usage: node --import tsx bench/text-finetune.ts [--rounds 4] [--steps 2] [--warmup 2] [--threads 2]
 *   [--encoder <dir>]
 */
import { join } from 'node:path';
import { loadTextEncoder } from '../src/text/encoder.js';
import { noDecayParams, SequenceClassifier } from '../src/text/finetune/index.js';
import { AdamW, clipGradNorm } from '../src/train/index.js';
import type { Tensor } from '../src/tensor.js';
import { arg, encoderDir, median, PEERS } from './text-common.js';
import { alternate, nodeScript, pairedRatios, runChild, showSpread } from './util/rounds.js';

const rounds = arg('rounds', 4);
const steps = arg('steps', 2);
const warmup = arg('warmup', 2);
const threads = arg('threads', 2);
const ptRunner = arg('pt', join(PEERS, '..', '..', '..', 'shared', 'peers', 'run_pt_tuned.sh'));
const B = 32;
const T = 128;

interface Steps {
  step_s: number[];
  /** graft only: the clip + AdamW part of each step. */
  optimizer_s?: number[];
  params?: number;
}

/** One round of graft's side, in this (child) process. */
async function graftSide(dir: string): Promise<void> {
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
  const out: Required<Steps> = {
    step_s: [],
    optimizer_s: [],
    params: names.reduce((a, n) => a + model.params.get(n)!.length, 0),
  };
  const step = async () => {
    const t0 = performance.now();
    const { gradients } = await model.computeGradients(batch);
    const t1 = performance.now();
    clipGradNorm(gradients, 1);
    optimizer.step(model.params, gradients);
    const t2 = performance.now();
    return [(t2 - t0) / 1000, (t2 - t1) / 1000] as const;
  };
  for (let i = 0; i < warmup; i++) await step();
  for (let i = 0; i < steps; i++) {
    const [s, o] = await step();
    out.step_s.push(s);
    out.optimizer_s.push(o);
  }
  await model.release();
  console.log(JSON.stringify(out));
}

async function main(): Promise<void> {
  const side = arg('side', '');
  if (side === 'graft') return graftSide(arg('encoder', ''));
  const dir = encoderDir();
  const [node, args] = nodeScript(import.meta.url, [
    ...['--side', 'graft', '--encoder', dir, '--steps', String(steps)],
    ...['--warmup', String(warmup), '--threads', String(threads)],
  ]);
  const opt: number[] = [];
  const all = { graft: [] as number[], torch: [] as number[] };
  const rss = { graft: [] as number[], torch: [] as number[] };
  let params = 0;
  const res = await alternate(
    rounds,
    {
      graft: () => {
        const r = runChild<Steps>(node, args);
        opt.push(...r.value.optimizer_s!);
        params = r.value.params!;
        all.graft.push(...r.value.step_s);
        if (r.peakRssMb !== undefined) rss.graft.push(r.peakRssMb);
        return median(r.value.step_s);
      },
      torch: () => {
        const r = runChild<Steps>(
          ptRunner,
          [join(PEERS, 'text_finetune_pt.py'), String(threads), String(warmup), String(steps)],
          { cwd: PEERS },
        );
        all.torch.push(...r.value.step_s);
        if (r.peakRssMb !== undefined) rss.torch.push(r.peakRssMb);
        return median(r.value.step_s);
      },
    },
    (r, got) =>
      console.log(
        `round ${r + 1}: graft ${got.graft.toFixed(2)} s/step, PyTorch ${got.torch.toFixed(2)} s/step`,
      ),
  );
  const g = median(all.graft);
  const t = median(all.torch);
  console.log(
    `encoder ${dir}: ${(params / 1e6).toFixed(1)}M trainable params, batch ${B}×${T}, ${threads} threads; ` +
      `${rounds} rounds, each side a fresh process with ${warmup} warm-up + ${steps} timed steps`,
  );
  console.log(
    `graft: ${showSpread(all.graft)} s/step (${(B / g).toFixed(2)} seq/s); clip+AdamW ${showSpread(opt)} s ` +
      `(${((100 * median(opt)) / g).toFixed(1)}% of the step); peak RSS ${showSpread(rss.graft, 4)} MB`,
  );
  console.log(
    `PyTorch: ${showSpread(all.torch)} s/step (${(B / t).toFixed(2)} seq/s); peak RSS ${showSpread(rss.torch, 4)} MB`,
  );
  console.log(
    `ratio graft/PyTorch throughput: ${(t / g).toFixed(2)}× of medians, per round ` +
      `${showSpread(pairedRatios(res.torch, res.graft), 2)} (goal ≥ 1.5)`,
  );
}

await main();
