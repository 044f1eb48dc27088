/**
 * Distillation train-step throughput (issue 13): one step = the frozen teacher's forward pass on the batch + the
 * student's forward, distillation loss, backward and Adam step, as `graft distill --augment` runs it (the teacher
 * on every batch, no cached logits). graft against PyTorch 1.13 (bench/peers/pt_distill_step.py through
 * ../shared/peers/run_pt_tuned.sh), batch 64 (distill's default), 2 threads.
 *
 * Same networks on both sides: the teacher is torchvision's MobileNetV2 (10 classes, 224x224 RGB), exported by
 * the peer script to ONNX with its exact weights, which graft loads as a `file:` teacher (distill/teacher.ts)
 * and runs up to its logits; the student is graft's `cnn` (distill/small-nets.ts: two 3x3 conv stages, 32 and
 * 64 channels, 28x28 gray) with the Hinton loss at T = 4, α = 0.9, and PyTorch's copy of it. Inputs are
 * preprocessed tensors (preprocessing and augmentation excluded on both sides).
 *
 * Fairness: PyTorch's teacher gets fused Conv+BN, eval mode and inference_mode, and runs in whichever of
 * NCHW/channels_last × eager/TorchScript-frozen a probe before the rounds finds fastest. Each side runs in a
 * fresh process every round (peak RSS from /usr/bin/time -v), the order alternates, both take the same warm-up
 * and timed steps. Reported: medians over rounds with their range; the ratio graft / PyTorch of the medians, and
 * per round.
 *
 * Usage: node --import tsx bench/distill-step.ts [--rounds 5] [--batch 64] [--threads 2] [--warmup 3] [--reps 10]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mulberry32 } from '../src/data/random.js';
import { loadMnist } from '../src/data/builtin-mnist.js';
import { smallCnn, CNN_FEATURES } from '../src/distill/small-nets.js';
import { loadTeacher, teacherLogitsModel, teacherSessionOptions } from '../src/distill/teacher.js';
import { Session } from '../src/runtime/session.js';
import { BackboneTrainable } from '../src/strategies/finetune/backbone-trainable.js';
import { TEACHER_LOGITS } from '../src/strategies/finetune/suffix-graph.js';
import { float32 } from '../src/tensor.js';
import { createOptimizer } from '../src/train/optimizers/index.js';
import { alternate, nodeScript, runChild, versusPyTorch } from './util/rounds.js';
import { median, peersOut } from './util/stats.js';

const PEER = fileURLToPath(new URL('./peers/pt_distill_step.py', import.meta.url));
const LAUNCH = fileURLToPath(new URL('../../shared/peers/run_pt_tuned.sh', import.meta.url));
const CLASSES = 10;

const { values: a } = parseArgs({
  options: {
    side: { type: 'string' },
    teacher: { type: 'string' },
    rounds: { type: 'string', default: '5' },
    batch: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '3' },
    reps: { type: 'string', default: '10' },
  },
});
const B = Number(a.batch);
const threads = Number(a.threads);
const warmup = Number(a.warmup);
const reps = Number(a.reps);

interface StepResult {
  items_per_s: number;
  step_s: number[];
  variant?: string;
}

/** graft's side, in this (child) process: prints the JSON line the parent reads. */
async function graftSide(teacherPath: string): Promise<void> {
  const session = { threads };
  const teacher = await loadTeacher(`file:${teacherPath}`, {
    labels: Array.from({ length: CLASSES }, (_, i) => String(i)),
  });
  // Exactly as distill() runs a teacher beside the student's steps (distill/teacher.ts).
  const teacherSession = await Session.create(teacherLogitsModel(teacher), teacherSessionOptions(session));
  const cnn = smallCnn(loadMnist().examples.slice(0, 8));
  const student = await BackboneTrainable.create({
    backbone: cnn.model,
    inputName: cnn.spec.inputName,
    inputShape: [28, 28, 1],
    featureTensor: CNN_FEATURES,
    numClasses: CLASSES,
    unfreeze: 'all',
    init: 'scratch',
    distill: { temperature: 4, alpha: 0.9 },
    seed: 1,
    session,
  });
  const u = mulberry32(2);
  const xt = float32(
    [B, 3, 224, 224],
    Float32Array.from({ length: B * 3 * 224 * 224 }, () => 2 * u() - 1),
  );
  const xs = float32(
    [B, 28, 28, 1],
    Float32Array.from({ length: B * 28 * 28 }, () => u()),
  );
  const labels = Int32Array.from({ length: B }, (_, i) => i % CLASSES);
  const optimizer = createOptimizer({ kind: 'adam', lr: 1e-3, weightDecay: 0 });
  const step = async () => {
    const logits = (await teacherSession.run({ [teacher.inputName]: xt }, [teacher.logits]))[teacher.logits]!;
    const { gradients } = await student.computeGradients({
      inputs: { [student.inputName]: xs, [TEACHER_LOGITS]: logits },
      labels,
    });
    optimizer.step(student.params, gradients);
  };
  for (let i = 0; i < warmup; i++) await step();
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await step();
    ts.push((performance.now() - t0) / 1000);
  }
  await teacherSession.release();
  await student.release();
  console.log(JSON.stringify({ items_per_s: B / median(ts), step_s: ts }));
}

async function main(): Promise<void> {
  if (a.side === 'graft') return graftSide(a.teacher!);
  const teacherPath = join(peersOut(), 'distill-teacher-mobilenet_v2.onnx');
  if (!existsSync(teacherPath)) runChild(LAUNCH, [PEER, 'export', teacherPath]);
  const probe = runChild<{ variant: string; probe_s: Record<string, number> }>(LAUNCH, [
    PEER,
    'probe',
    String(threads),
    String(B),
  ]).value;
  console.log(`PyTorch probe (3 steps each, s): ${JSON.stringify(probe.probe_s)} -> ${probe.variant}`);
  const common = [
    '--batch',
    String(B),
    '--threads',
    String(threads),
    '--warmup',
    String(warmup),
    '--reps',
    String(reps),
  ];
  const [node, args] = nodeScript(import.meta.url, ['--side', 'graft', '--teacher', teacherPath, ...common]);
  const torchArgs = [PEER, 'time', String(threads), String(B), probe.variant, String(warmup), String(reps)];
  const rss = { graft: [] as number[], torch: [] as number[] };
  const side = (name: 'graft' | 'torch', cmd: string, argv: string[]) => () => {
    const r = runChild<StepResult>(cmd, argv);
    if (r.peakRssMb !== undefined) rss[name].push(r.peakRssMb);
    return r.value.items_per_s;
  };
  const res = await alternate(
    Number(a.rounds),
    { graft: side('graft', node, args), torch: side('torch', LAUNCH, torchArgs) },
    (r, got) =>
      console.log(
        `  round ${r + 1}: graft ${got.graft.toFixed(1)}, PyTorch ${got.torch.toFixed(1)} images/s`,
      ),
  );
  console.log(
    `distillation step (teacher MobileNetV2 224 forward + cnn student train step), batch ${B}, ${threads} threads, ` +
      `${a.rounds} rounds, ${warmup} warm-up + ${reps} timed steps per process, PyTorch ${probe.variant}: ` +
      versusPyTorch(res, rss, 'images/s'),
  );
}

await main();
