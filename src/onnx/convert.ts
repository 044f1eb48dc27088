/** Decoded ModelProto objects <-> graft's IR. Anything graft does not interpret is carried verbatim. */
import Long from 'long';
import { GraftError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import type { Attribute, Dim, Graph, Model, Node, ValueInfo } from './ir.js';
import { codeFromDtype, dtypeFromCode, tensorFromProto, tensorToProto, toNumber } from './tensor-proto.js';
import type { Int64Like, TensorProtoLike } from './tensor-proto.js';

interface DimProto {
  dimValue?: Int64Like;
  dimParam?: string;
  value?: string;
}
interface TypeProtoLike {
  tensorType?: { elemType?: number; shape?: { dim?: DimProto[] } | null };
  value?: string;
}
interface ValueInfoProtoLike {
  name?: string;
  type?: TypeProtoLike | null;
  docString?: string;
}
interface AttributeProtoLike {
  name?: string;
  type?: number;
  refAttrName?: string;
  f?: number;
  i?: Int64Like;
  s?: Uint8Array;
  t?: TensorProtoLike | null;
  g?: GraphProtoLike | null;
  floats?: number[];
  ints?: Int64Like[];
  strings?: Uint8Array[];
  tensors?: TensorProtoLike[];
  graphs?: GraphProtoLike[];
}
interface NodeProtoLike {
  name?: string;
  opType?: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProtoLike[];
  docString?: string;
}
export interface GraphProtoLike {
  name?: string;
  node?: NodeProtoLike[];
  input?: ValueInfoProtoLike[];
  output?: ValueInfoProtoLike[];
  valueInfo?: ValueInfoProtoLike[];
  initializer?: TensorProtoLike[];
  sparseInitializer?: unknown[];
  quantizationAnnotation?: unknown[];
  docString?: string;
}
export interface ModelProtoLike {
  irVersion?: Int64Like;
  opsetImport?: { domain?: string; version?: Int64Like }[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64Like;
  docString?: string;
  graph?: GraphProtoLike | null;
  metadataProps?: { key: string; value: string }[];
  functions?: unknown[];
  trainingInfo?: unknown[];
}

/**
 * int64 for protobufjs: a plain JS number at or beyond ±2^63 (how INT64_MAX/MIN decode, e.g. Slice ends) would
 * wrap around when written; Long.fromNumber saturates, so INT64_MAX round-trips exactly.
 */
const int64 = (v: number): Long => Long.fromNumber(Math.trunc(v));

const utf8 = new TextDecoder();
const enc = new TextEncoder();

function valueInfoFromProto(v: ValueInfoProtoLike): ValueInfo {
  const out: ValueInfo = { name: v.name ?? '' };
  if (v.docString) out.docString = v.docString;
  const type = v.type;
  if (!type) return out;
  if (type.value !== undefined && type.value !== 'tensorType') {
    out.opaqueType = type;
    return out;
  }
  const tt = type.tensorType;
  if (!tt) return out;
  const dtype = dtypeFromCode(tt.elemType ?? 0);
  if (dtype) out.dtype = dtype;
  else if (tt.elemType) out.elemTypeCode = tt.elemType;
  if (tt.shape) {
    out.shape = (tt.shape.dim ?? []).map((d): Dim => {
      if (d.value === 'dimValue') return toNumber(d.dimValue);
      if (d.value === 'dimParam') return d.dimParam ?? null;
      return null;
    });
  }
  return out;
}

function valueInfoToProto(v: ValueInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { name: v.name };
  if (v.docString) out['docString'] = v.docString;
  if (v.opaqueType) return { ...out, type: v.opaqueType };
  const code = v.dtype ? codeFromDtype(v.dtype) : v.elemTypeCode;
  if (code === undefined && !v.shape) return out;
  const tensorType: Record<string, unknown> = {};
  if (code !== undefined) tensorType['elemType'] = code;
  if (v.shape) {
    tensorType['shape'] = {
      dim: v.shape.map((d) =>
        typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {},
      ),
    };
  }
  return { ...out, type: { tensorType } };
}

function tensorOrThrow(p: TensorProtoLike, baseDir?: string): Tensor {
  const t = tensorFromProto(p, baseDir);
  if (!t)
    throw new GraftError('UNSUPPORTED_OP', `tensor attribute with unsupported element type ${p.dataType}`);
  return t;
}

function attributeFromProto(a: AttributeProtoLike, baseDir?: string): Attribute {
  if (a.refAttrName) return { type: 'opaque', value: a };
  switch (a.type) {
    case 1:
      return { type: 'float', value: a.f ?? 0 };
    case 2:
      return { type: 'int', value: toNumber(a.i) };
    case 3:
      return { type: 'string', value: utf8.decode(a.s ?? new Uint8Array()) };
    case 4: {
      const t = a.t ? tensorFromProto(a.t, baseDir) : undefined;
      return t ? { type: 'tensor', value: t } : { type: 'opaque', value: a };
    }
    case 5:
      return { type: 'graph', value: graphFromProto(a.g ?? {}, baseDir) };
    case 6:
      return { type: 'floats', value: [...(a.floats ?? [])] };
    case 7:
      return { type: 'ints', value: (a.ints ?? []).map(toNumber) };
    case 8:
      return { type: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case 9:
      return { type: 'tensors', value: (a.tensors ?? []).map((t) => tensorOrThrow(t, baseDir)) };
    case 10:
      return { type: 'graphs', value: (a.graphs ?? []).map((g) => graphFromProto(g, baseDir)) };
    default:
      return { type: 'opaque', value: a };
  }
}

const ATTR_CODES: Record<Exclude<Attribute['type'], 'opaque'>, number> = {
  float: 1,
  int: 2,
  string: 3,
  tensor: 4,
  graph: 5,
  floats: 6,
  ints: 7,
  strings: 8,
  tensors: 9,
  graphs: 10,
};

function attributeToProto(name: string, a: Attribute): Record<string, unknown> | unknown {
  if (a.type === 'opaque') return a.value;
  const base = { name, type: ATTR_CODES[a.type] };
  switch (a.type) {
    case 'float':
      return { ...base, f: a.value };
    case 'int':
      return { ...base, i: int64(a.value) };
    case 'string':
      return { ...base, s: enc.encode(a.value) };
    case 'tensor':
      return { ...base, t: tensorToProto('', a.value) };
    case 'graph':
      return { ...base, g: graphToProto(a.value) };
    case 'floats':
      return { ...base, floats: a.value };
    case 'ints':
      return { ...base, ints: a.value.map(int64) };
    case 'strings':
      return { ...base, strings: a.value.map((s) => enc.encode(s)) };
    case 'tensors':
      return { ...base, tensors: a.value.map((t) => tensorToProto('', t)) };
    case 'graphs':
      return { ...base, graphs: a.value.map((g) => graphToProto(g)) };
  }
}

function nodeFromProto(n: NodeProtoLike, baseDir?: string): Node {
  const attrs: Record<string, Attribute> = {};
  for (const a of n.attribute ?? []) attrs[a.name ?? ''] = attributeFromProto(a, baseDir);
  const node: Node = {
    name: n.name ?? '',
    opType: n.opType ?? '',
    domain: n.domain ?? '',
    inputs: [...(n.input ?? [])],
    outputs: [...(n.output ?? [])],
    attrs,
  };
  if (n.docString) node.docString = n.docString;
  return node;
}

export function graphFromProto(g: GraphProtoLike, baseDir?: string): Graph {
  const initializers = new Map<string, Tensor>();
  const opaqueInits: unknown[] = [];
  for (const t of g.initializer ?? []) {
    const decoded = tensorFromProto(t, baseDir);
    if (decoded) initializers.set(t.name ?? '', decoded);
    else opaqueInits.push(t);
  }
  const graph: Graph = {
    name: g.name ?? '',
    nodes: (g.node ?? []).map((n) => nodeFromProto(n, baseDir)),
    inputs: (g.input ?? []).map(valueInfoFromProto),
    outputs: (g.output ?? []).map(valueInfoFromProto),
    initializers,
    valueInfo: new Map((g.valueInfo ?? []).map((v) => [v.name ?? '', valueInfoFromProto(v)])),
  };
  if (g.docString) graph.docString = g.docString;
  const sparse = g.sparseInitializer ?? [];
  const quant = g.quantizationAnnotation ?? [];
  if (opaqueInits.length || sparse.length || quant.length) {
    graph.opaque = { initializers: opaqueInits, sparseInitializers: sparse, quantizationAnnotation: quant };
  }
  return graph;
}

export type InitializerEncoder = (name: string, t: Tensor) => Record<string, unknown>;

export function graphToProto(
  g: Graph,
  encodeInit: InitializerEncoder = tensorToProto,
): Record<string, unknown> {
  return {
    name: g.name,
    docString: g.docString ?? '',
    node: g.nodes.map((n) => ({
      name: n.name,
      opType: n.opType,
      domain: n.domain,
      input: n.inputs,
      output: n.outputs,
      docString: n.docString ?? '',
      attribute: Object.entries(n.attrs).map(([k, a]) => attributeToProto(k, a)),
    })),
    input: g.inputs.map(valueInfoToProto),
    output: g.outputs.map(valueInfoToProto),
    valueInfo: [...g.valueInfo.values()].map(valueInfoToProto),
    initializer: [
      ...[...g.initializers].map(([k, t]) => encodeInit(k, t)),
      ...(g.opaque?.initializers ?? []),
    ],
    sparseInitializer: g.opaque?.sparseInitializers ?? [],
    quantizationAnnotation: g.opaque?.quantizationAnnotation ?? [],
  };
}

export function modelFromProto(m: ModelProtoLike, baseDir?: string): Model {
  if (!m.graph) throw new GraftError('CORRUPT_MODEL', 'the ONNX model has no graph');
  const model: Model = {
    irVersion: toNumber(m.irVersion),
    opsetImports: (m.opsetImport ?? []).map((o) => ({
      domain: o.domain ?? '',
      version: toNumber(o.version),
    })),
    producerName: m.producerName ?? '',
    producerVersion: m.producerVersion ?? '',
    domain: m.domain ?? '',
    modelVersion: toNumber(m.modelVersion),
    docString: m.docString ?? '',
    graph: graphFromProto(m.graph, baseDir),
    metadata: Object.fromEntries((m.metadataProps ?? []).map((e) => [e.key, e.value])),
  };
  if (m.functions?.length || m.trainingInfo?.length) {
    model.opaque = { functions: m.functions ?? [], trainingInfo: m.trainingInfo ?? [] };
  }
  return model;
}

export function modelToProto(m: Model, encodeInit?: InitializerEncoder): Record<string, unknown> {
  return {
    irVersion: m.irVersion,
    opsetImport: m.opsetImports,
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    domain: m.domain,
    modelVersion: m.modelVersion,
    docString: m.docString,
    graph: graphToProto(m.graph, encodeInit),
    metadataProps: Object.entries(m.metadata).map(([key, value]) => ({ key, value })),
    functions: m.opaque?.functions ?? [],
    trainingInfo: m.opaque?.trainingInfo ?? [],
  };
}
