/** The parts of a TF.js graph-model JSON (a TensorFlow GraphDef in JSON form) the importer reads. */
import type { WeightsManifest } from '../tfjs-weights.js';

export interface TfAttrList {
  readonly i?: readonly (string | number)[];
  readonly f?: readonly number[];
  readonly s?: readonly string[];
  readonly b?: readonly boolean[];
  readonly type?: readonly string[];
}

export interface TfTensorJson {
  readonly dtype?: string;
  readonly tensorShape?: { readonly dim?: readonly { readonly size?: string | number }[] };
  readonly floatVal?: readonly number[];
  readonly intVal?: readonly number[];
  readonly int64Val?: readonly (string | number)[];
}

/** One attribute value; exactly one field is set. Byte strings (`s`) are base64. */
export interface TfAttr {
  readonly i?: string | number;
  readonly f?: number;
  readonly b?: boolean;
  readonly s?: string;
  readonly type?: string;
  readonly list?: TfAttrList;
  readonly shape?: {
    readonly dim?: readonly { readonly size?: string | number }[];
    readonly unknownRank?: boolean;
  };
  readonly tensor?: TfTensorJson;
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, TfAttr>>;
  readonly device?: string;
}

export interface TfGraphTopology {
  readonly node: readonly TfNode[];
  readonly versions?: unknown;
  readonly library?: unknown;
}

export interface TfSignature {
  readonly inputs?: Readonly<Record<string, { readonly name?: string }>>;
  readonly outputs?: Readonly<Record<string, { readonly name?: string }>>;
}

/** A TF.js model.json for a graph model (`format: 'graph-model'`). */
export interface GraphModelJson {
  readonly format?: string;
  readonly modelTopology: TfGraphTopology;
  readonly weightsManifest: WeightsManifest;
  readonly signature?: TfSignature;
  readonly userDefinedMetadata?: { readonly signature?: TfSignature };
}
