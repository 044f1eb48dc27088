/** Reading ONNX's backend test cases (libonnx-testdata layout) and comparing tensors like ONNX's runner does. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelProtoType, TensorProtoType } from '../../src/onnx/schema.js';
import { tensorFromProto, type TensorProtoLike } from '../../src/onnx/tensor-proto.js';
import type { Tensor } from '../../src/tensor.js';

export const TESTDATA_ROOT = process.env['ONNX_TESTDATA'] ?? '/usr/share/libonnx-testdata/data';
export const SUITES = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;

export interface TestCase {
  suite: string;
  name: string;
  dir: string;
}

export interface DataSet {
  /** Input tensors, in file order; `name` is the TensorProto's own name ('' when absent). */
  inputs: { name: string; tensor: Tensor }[];
  outputs: Tensor[];
}

export function listCases(root = TESTDATA_ROOT, suites: readonly string[] = SUITES): TestCase[] {
  const out: TestCase[] = [];
  for (const suite of suites) {
    const sdir = join(root, suite);
    if (!existsSync(sdir)) continue;
    for (const name of readdirSync(sdir).sort()) {
      const dir = join(sdir, name);
      if (existsSync(join(dir, 'model.onnx'))) out.push({ suite, name, dir });
    }
  }
  return out;
}

/** Thrown for a case the suite cannot exercise; `reason` is a short, countable category. */
export class SkipCase extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

interface RawValueInfo {
  name?: string;
  type?: { value?: string; tensorType?: { elemType?: number } } | null;
}
interface RawModel {
  graph?: { input?: RawValueInfo[]; output?: RawValueInfo[]; initializer?: { name?: string }[] } | null;
}

/** The model's feedable inputs and its outputs, read straight from the protobuf (independent of graft's IR). */
export function modelSignature(bytes: Uint8Array): { inputs: RawValueInfo[]; outputs: RawValueInfo[] } {
  const m = ModelProtoType.decode(bytes) as unknown as RawModel;
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name ?? ''));
  const inputs = (m.graph?.input ?? []).filter((v) => !inits.has(v.name ?? ''));
  return { inputs, outputs: m.graph?.output ?? [] };
}

export function isTensorType(v: RawValueInfo): boolean {
  const kind = v.type?.value;
  return kind === undefined || kind === 'tensorType';
}

const ORT_TYPES = new Set([
  'float32',
  'float64',
  'float16',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
  'string',
]);

function readTensor(path: string): { name: string; tensor: Tensor } {
  const proto = TensorProtoType.decode(readFileSync(path)) as unknown as TensorProtoLike;
  const tensor = tensorFromProto(proto);
  if (!tensor) throw new SkipCase(`element type ${proto.dataType} not representable in graft`);
  if (!ORT_TYPES.has(tensor.dtype))
    throw new SkipCase(`dtype ${tensor.dtype} unsupported by onnxruntime-node`);
  return { name: proto.name ?? '', tensor };
}

export function readDataSets(dir: string): DataSet[] {
  const sets = readdirSync(dir)
    .filter((d) => d.startsWith('test_data_set_'))
    .sort();
  return sets.map((s) => {
    const files = readdirSync(join(dir, s));
    const pick = (prefix: string): string[] =>
      files
        .filter((f) => f.startsWith(prefix) && f.endsWith('.pb'))
        .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
        .map((f) => join(dir, s, f));
    return {
      inputs: pick('input_').map(readTensor),
      outputs: pick('output_').map((p) => readTensor(p).tensor),
    };
  });
}

/** Feeds for one data set: by TensorProto name when every name matches an input, else by position. */
export function feedsFor(set: DataSet, inputNames: readonly string[]): Record<string, ort.Tensor> {
  const byName = set.inputs.every((i) => i.name !== '' && inputNames.includes(i.name));
  const feeds: Record<string, ort.Tensor> = {};
  set.inputs.forEach((inp, k) => {
    const name = byName ? inp.name : inputNames[k];
    if (name === undefined) throw new SkipCase('more input files than model inputs');
    const t = inp.tensor;
    feeds[name] = new ort.Tensor(t.dtype as ort.Tensor.Type, t.data as ort.Tensor.DataType, [...t.shape]);
  });
  return feeds;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const FLOATS = new Set(['float32', 'float64', 'float16']);

/** Undefined when equal within tolerance (NaN == NaN), else a one-line description of the first mismatch. */
export function compareTensor(
  actual: { type: string; dims: readonly number[]; data: unknown },
  expected: Tensor,
  rtol = 1e-3,
  atol = 1e-5,
): string | undefined {
  if (actual.type !== expected.dtype) return `dtype ${actual.type} != expected ${expected.dtype}`;
  const shapeA = [...actual.dims].join(',');
  const shapeE = expected.shape.join(',');
  if (shapeA !== shapeE) return `shape [${shapeA}] != expected [${shapeE}]`;
  const a = actual.data as ArrayLike<number | bigint | string>;
  const e = expected.data as ArrayLike<number | bigint | string>;
  if (a.length !== e.length) return `length ${a.length} != expected ${e.length}`;
  const isFloat = FLOATS.has(expected.dtype);
  const half = expected.dtype === 'float16';
  for (let i = 0; i < e.length; i++) {
    if (!isFloat) {
      if (a[i] !== e[i]) return `element ${i}: ${String(a[i])} != expected ${String(e[i])}`;
      continue;
    }
    const x = half ? halfToFloat(a[i] as number) : (a[i] as number);
    const y = half ? halfToFloat(e[i] as number) : (e[i] as number);
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (x === y) continue;
    if (!(Math.abs(x - y) <= atol + rtol * Math.abs(y))) return `element ${i}: ${x} != expected ${y}`;
  }
  return undefined;
}
