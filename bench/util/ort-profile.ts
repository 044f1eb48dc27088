/**
 * ONNX Runtime's own profiler over a model: kernel time per op type (ms per run) and per node, from one
 * profiled pass over the given feeds, in a session set up as graft's are (all graph optimizations, CPU).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Model } from '../../src/onnx/ir.js';
import { encodeModel } from '../../src/onnx/io.js';

export interface KernelProfile {
  /** Kernel time per run, ms: the total and each op type (ORT's names after its fusions, e.g. QLinearConv). */
  byOp: Record<string, number>;
  /** Kernel time per run of each node, ms, largest first, with its op type. */
  byNode: { node: string; op: string; ms: number }[];
}

export async function profileKernels(
  model: Model,
  feeds: readonly Record<string, ort.Tensor>[],
  threads: number,
): Promise<KernelProfile> {
  const prefix = `graft-profile-${process.pid}-${Date.now()}`;
  const s = await ort.InferenceSession.create(encodeModel(model), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
    enableProfiling: true,
    profileFilePrefix: join(tmpdir(), prefix),
  });
  for (const f of feeds) await s.run(f);
  s.endProfiling();
  await s.release();
  // ORT names the file <prefix>_<date>.json.
  const found = (await readdir(tmpdir())).filter((f) => f.startsWith(`${prefix}_`));
  if (found.length !== 1) throw new Error(`expected one profile file ${prefix}_*, found ${found.length}`);
  const file = join(tmpdir(), found[0]!);
  const events = JSON.parse(await readFile(file, 'utf8')) as {
    cat: string;
    name: string;
    dur: number;
    args?: { op_name?: string };
  }[];
  await rm(file, { force: true });
  const ops: Record<string, number> = {};
  const nodes = new Map<string, { op: string; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const op = e.args.op_name;
    ops[op] = (ops[op] ?? 0) + e.dur;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const n = nodes.get(node) ?? { op, us: 0 };
    n.us += e.dur;
    nodes.set(node, n);
  }
  const total = Object.values(ops).reduce((a, b) => a + b, 0);
  const ms = (us: number) => Number((us / 1000 / feeds.length).toFixed(2));
  return {
    byOp: Object.fromEntries([
      ['total', ms(total)],
      ...Object.entries(ops)
        .filter(([, us]) => us / total >= 0.005)
        .sort((a, b) => b[1] - a[1])
        .map(([op, us]) => [op, ms(us)]),
    ]),
    byNode: [...nodes]
      .sort((a, b) => b[1].us - a[1].us)
      .map(([node, n]) => ({ node, op: n.op, ms: ms(n.us) })),
  };
}
