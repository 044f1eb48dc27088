/**
 * Shape inference checked against ONNX Runtime: for every libonnx-testdata case (node, pytorch-*, simple) whose ops all have a shape
 * rule, the shapes inferred from the declared inputs must match the output shapes ORT produces and the dims of
 * the reference outputs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../../src/onnx/io.js';
import { cloneGraph, opsetOf, type Dim, type Graph } from '../../src/onnx/ir.js';
import { inferShapes, SHAPE_INFERENCE_OPS } from '../../src/onnx/shape-inference.js';
import {
  feedsFor,
  isTensorType,
  listCases,
  modelSignature,
  readDataSets,
  SUITES,
  TESTDATA_ROOT,
} from './conformance-data.js';

type Verdict = 'exact' | 'partial' | 'unknown' | 'wrong';

function opsOf(g: Graph): string[] {
  const ops: string[] = [];
  for (const n of g.nodes) {
    ops.push(n.domain === '' || n.domain === 'ai.onnx' ? n.opType : `${n.domain}:${n.opType}`);
    for (const a of Object.values(n.attrs)) {
      if (a.type === 'graph') ops.push(...opsOf(a.value));
      if (a.type === 'graphs') for (const sg of a.value) ops.push(...opsOf(sg));
    }
  }
  return ops;
}

function judge(inferred: Dim[] | undefined, actual: readonly number[], expected: readonly number[]): Verdict {
  if (!inferred) return 'unknown';
  if (actual.join() !== expected.join()) return 'wrong';
  if (inferred.length !== actual.length) return 'wrong';
  if (inferred.some((d, i) => typeof d === 'number' && d !== actual[i])) return 'wrong';
  return inferred.every((d) => typeof d === 'number') ? 'exact' : 'partial';
}

test('inferred shapes match ONNX Runtime on the ONNX conformance cases', async () => {
  assert.ok(
    existsSync(TESTDATA_ROOT),
    `install libonnx-testdata (ONNX conformance data) at ${TESTDATA_ROOT}`,
  );
  type Row = { id: string; output: string; verdict: Verdict; inferred?: Dim[]; actual?: number[] };
  const rows: Row[] = [];
  const foldedRows: Row[] = [];
  let considered = 0;
  let skipped = 0;
  for (const c of listCases(TESTDATA_ROOT, SUITES)) {
    const bytes = readFileSync(join(c.dir, 'model.onnx'));
    const model = decodeModel(bytes, { anyOpset: true, baseDir: c.dir });
    if (!opsOf(model.graph).every((op) => SHAPE_INFERENCE_OPS.has(op))) continue;
    considered++;
    const sig = modelSignature(bytes);
    let sets;
    let session: ort.InferenceSession;
    try {
      if (![...sig.inputs, ...sig.outputs].every(isTensorType)) throw new Error('non-tensor');
      sets = readDataSets(c.dir);
      session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, logSeverityLevel: 4 });
    } catch {
      skipped++;
      continue;
    }
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feedsFor(sets[0]!, session.inputNames));
    } catch {
      skipped++;
      continue;
    } finally {
      await session.release();
    }
    // Pass 1: declared input shapes only. Pass 2: small integer inputs (shapes, axes, pads…) and scalars
    // are known constants, as they are in exported models — this exercises the constant folding.
    const folded = cloneGraph(model.graph);
    sets[0]!.inputs.forEach((inp, k) => {
      const name = inp.name && session.inputNames.includes(inp.name) ? inp.name : session.inputNames[k]!;
      const t = inp.tensor;
      if ((/int/.test(t.dtype) && t.data.length <= 64) || (t.shape.length === 0 && t.dtype !== 'string'))
        folded.initializers.set(name, t);
    });
    for (const [graph, into] of [
      [model.graph, rows],
      [folded, foldedRows],
    ] as const) {
      const shapes = inferShapes(graph, { opset: opsetOf(model), useDeclared: false });
      model.graph.outputs.forEach((o, k) => {
        const got = result[o.name]!;
        const inferred = shapes.get(o.name);
        let verdict = judge(inferred?.shape, got.dims, sets[0]!.outputs[k]!.shape);
        if (verdict !== 'unknown' && inferred?.dtype && inferred.dtype !== got.type) verdict = 'wrong';
        into.push({ id: c.name, output: o.name, verdict, inferred: inferred?.shape, actual: [...got.dims] });
      });
    }
  }
  const tally = (list: Row[]) => {
    const count = (v: Verdict): number => list.filter((r) => r.verdict === v).length;
    return {
      outputs: list.length,
      exact: count('exact'),
      partial: count('partial'),
      unknown: count('unknown'),
      wrong: count('wrong'),
      notExact: list.filter((r) => r.verdict !== 'exact'),
    };
  };
  const summary = {
    cases: considered,
    skipped,
    declaredInputs: tally(rows),
    constantInputs: tally(foldedRows),
  };
  const dir = join(import.meta.dirname, '..', '..', 'test-artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'shape-inference.json'), JSON.stringify(summary, null, 2));
  const line = (t: ReturnType<typeof tally>): string =>
    `${t.exact} exact / ${t.partial} partial / ${t.unknown} unknown / ${t.wrong} wrong of ${t.outputs} outputs`;
  console.log(
    `shape inference on ${considered} cases (${skipped} not runnable): declared inputs ${line(summary.declaredInputs)}; ` +
      `small inputs as constants ${line(summary.constantInputs)}`,
  );
  const wrong = [...rows, ...foldedRows]
    .filter((r) => r.verdict === 'wrong')
    .map((r) => `${r.id}:${r.output} ${JSON.stringify(r)}`);
  assert.deepEqual(wrong, []);
  const { exact, outputs } = summary.constantInputs;
  assert.ok(exact >= 0.98 * outputs, `only ${exact} of ${outputs} exact`);
});
