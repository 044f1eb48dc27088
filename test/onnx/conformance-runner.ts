/**
 * One conformance case: run the original model bytes and graft's round-tripped bytes (decode → IR → encode) in
 * ONNX Runtime and compare both with ONNX's expected outputs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Model } from '../../src/onnx/ir.js';
import { decodeModel, encodeModel } from '../../src/onnx/io.js';
import {
  compareTensor,
  feedsFor,
  isTensorType,
  modelSignature,
  readDataSets,
  SkipCase,
  type DataSet,
  type TestCase,
} from './conformance-data.js';

export type CaseStatus = 'pass' | 'fail' | 'skip';

export interface CaseResult {
  id: string;
  status: CaseStatus;
  reason?: string;
  detail?: string;
}

type Outputs = ort.InferenceSession.ReturnType[];

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  logSeverityLevel: 4,
};

function msg(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!.slice(0, 240);
}

async function runAll(bytes: Uint8Array, sets: DataSet[]): Promise<{ outputs: Outputs; names: string[] }> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const outputs: Outputs = [];
    for (const set of sets) outputs.push(await session.run(feedsFor(set, session.inputNames)));
    return { outputs, names: [...session.outputNames] };
  } finally {
    await session.release();
  }
}

/** First mismatch between produced outputs and the expected tensors, or undefined. */
function mismatch(run: { outputs: Outputs; names: string[] }, sets: DataSet[]): string | undefined {
  for (let s = 0; s < sets.length; s++) {
    const expected = sets[s]!.outputs;
    for (let k = 0; k < expected.length; k++) {
      const name = run.names[k];
      const got = name === undefined ? undefined : run.outputs[s]![name];
      if (!got) return `data set ${s}: output ${k} missing`;
      const diff = compareTensor(got, expected[k]!);
      if (diff) return `data set ${s} output '${name}': ${diff}`;
    }
  }
  return undefined;
}

/** Exact comparison of two runs (used when ORT itself disagrees with the reference). */
function sameRuns(
  a: { outputs: Outputs; names: string[] },
  b: { outputs: Outputs; names: string[] },
): boolean {
  if (a.names.join('\n') !== b.names.join('\n')) return false;
  return a.outputs.every((out, s) =>
    a.names.every((n) => {
      const x = out[n]!;
      const y = b.outputs[s]![n]!;
      const asExpected = { dtype: x.type, shape: [...x.dims], data: x.data } as never;
      return compareTensor(y, asExpected, 0, 0) === undefined;
    }),
  );
}

export interface RunCaseOptions {
  /** Applied to the IR between decode and encode; lets the suite check that it detects a broken round trip. */
  mutate?: (model: Model) => void;
}

async function tryRunCase(c: TestCase, options: RunCaseOptions): Promise<CaseResult> {
  const id = `${c.suite}/${c.name}`;
  const bytes = readFileSync(join(c.dir, 'model.onnx'));
  const sig = modelSignature(bytes);
  if (![...sig.inputs, ...sig.outputs].every(isTensorType))
    throw new SkipCase('non-tensor inputs/outputs (sequence/optional/map)');
  const sets = readDataSets(c.dir);
  if (sets.length === 0) throw new SkipCase('no test data sets');

  let original: { outputs: Outputs; names: string[] };
  try {
    original = await runAll(bytes, sets);
  } catch (e) {
    if (e instanceof SkipCase) throw e;
    return { id, status: 'skip', reason: 'ORT cannot run the original model', detail: msg(e) };
  }
  const originalDiff = mismatch(original, sets);

  let written: Uint8Array;
  let roundTrip: { outputs: Outputs; names: string[] };
  try {
    const model = decodeModel(bytes, { anyOpset: true, baseDir: c.dir, label: id });
    options.mutate?.(model);
    written = encodeModel(model);
    const again = encodeModel(decodeModel(written, { anyOpset: true, baseDir: c.dir, label: id }));
    if (Buffer.compare(Buffer.from(again), Buffer.from(written)) !== 0)
      return {
        id,
        status: 'fail',
        reason: 'round trip not stable',
        detail: 'second encode differs from first',
      };
    roundTrip = await runAll(written, sets);
  } catch (e) {
    return { id, status: 'fail', reason: 'round trip breaks the model', detail: msg(e) };
  }
  const roundTripDiff = mismatch(roundTrip, sets);
  if (!originalDiff) {
    return roundTripDiff
      ? { id, status: 'fail', reason: 'round trip changes outputs', detail: roundTripDiff }
      : { id, status: 'pass' };
  }
  // ORT disagrees with the reference: the round trip must still reproduce ORT's own outputs when ORT is
  // deterministic on this model (random ops are not).
  if (!sameRuns(original, roundTrip)) {
    const rerun = await runAll(bytes, sets);
    if (sameRuns(original, rerun))
      return {
        id,
        status: 'fail',
        reason: 'round trip changes outputs',
        detail: 'differs from original run',
      };
    return {
      id,
      status: 'skip',
      reason: 'nondeterministic op (ORT differs from reference)',
      detail: originalDiff,
    };
  }
  return { id, status: 'skip', reason: 'ORT output differs from reference', detail: originalDiff };
}

export async function runCase(c: TestCase, options: RunCaseOptions = {}): Promise<CaseResult> {
  try {
    return await tryRunCase(c, options);
  } catch (e) {
    const id = `${c.suite}/${c.name}`;
    if (e instanceof SkipCase) return { id, status: 'skip', reason: e.reason };
    return { id, status: 'fail', reason: 'harness error', detail: msg(e) };
  }
}

/** Runs cases with at most `concurrency` in flight; results in case order. */
export async function runCases(cases: readonly TestCase[], concurrency: number): Promise<CaseResult[]> {
  const results: CaseResult[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await runCase(cases[i]!);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
