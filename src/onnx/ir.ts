/** graft's in-memory ONNX graph IR: plain data, easy to build, inspect and transform. */
import type { DType, Tensor } from '../tensor.js';

/** A dimension: a size, a symbolic name (e.g. 'batch'), or unknown. */
export type Dim = number | string | null;

export interface ValueInfo {
  name: string;
  /** Tensor element type; undefined for non-tensor values or when unknown. */
  dtype?: DType;
  /** Undefined when the rank is unknown. */
  shape?: Dim[];
  /** Non-tensor types (sequence, map, optional, sparse) are carried through verbatim. */
  opaqueType?: unknown;
  /** ONNX element type code when it has no graft dtype (float8, int4, complex…): carried verbatim. */
  elemTypeCode?: number;
  docString?: string;
}

export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  /** Anything graft does not interpret (sparse tensors, type protos, attribute references): verbatim proto. */
  | { type: 'opaque'; value: unknown };

export type AttributeType = Attribute['type'];

export interface Node {
  name: string;
  opType: string;
  /** '' is the default ONNX domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attribute>;
  docString?: string;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  /** Types of intermediate values, when known. */
  valueInfo: Map<string, ValueInfo>;
  /** Initializers and annotations graft does not interpret (sparse, exotic dtypes): verbatim protos. */
  opaque?: { initializers?: unknown[]; sparseInitializers?: unknown[]; quantizationAnnotation?: unknown[] };
  docString?: string;
}

export interface OpsetImport {
  domain: string;
  version: number;
}

export interface Model {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  graph: Graph;
  metadata: Record<string, string>;
  /** Model-local functions and training info: carried through verbatim. */
  opaque?: { functions?: unknown[]; trainingInfo?: unknown[] };
}

/** Default-domain opsets graft reads and writes (ONNX Runtime 1.30 runs all of them). */
export const SUPPORTED_OPSETS = { min: 7, max: 23 } as const;

export function emptyGraph(name = 'graph'): Graph {
  return { name, nodes: [], inputs: [], outputs: [], initializers: new Map(), valueInfo: new Map() };
}

export function createModel(graph: Graph, opset = 17, extraOpsets: OpsetImport[] = []): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: opset }, ...extraOpsets],
    producerName: 'graft',
    producerVersion: '0.1.0',
    domain: '',
    modelVersion: 1,
    docString: '',
    graph,
    metadata: {},
  };
}

/** The default-domain opset version a model uses. */
export function opsetOf(model: Model): number {
  const found = model.opsetImports.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  return found ? found.version : 1;
}

export type AttrValueMap = { [A in Attribute as A['type']]: A['value'] };
type AttrValue<T extends AttributeType> = AttrValueMap[T];

/** An attribute's value when present with the expected type, else undefined. */
export function getAttr<T extends AttributeType>(
  node: Node,
  name: string,
  type: T,
): AttrValue<T> | undefined {
  const a: Attribute | undefined = node.attrs[name];
  if (!a || a.type !== type) return undefined;
  return a.value as unknown as AttrValue<T>;
}

/** A deep copy of a graph's structure; tensors are shared (they are treated as immutable). */
export function cloneGraph(g: Graph): Graph {
  return {
    ...g,
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: { ...n.attrs },
    })),
    inputs: g.inputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : undefined })),
    outputs: g.outputs.map((v) => ({ ...v, shape: v.shape ? [...v.shape] : undefined })),
    initializers: new Map(g.initializers),
    valueInfo: new Map(g.valueInfo),
  };
}

export function cloneModel(m: Model): Model {
  return {
    ...m,
    opsetImports: m.opsetImports.map((o) => ({ ...o })),
    metadata: { ...m.metadata },
    graph: cloneGraph(m.graph),
  };
}
