/** Importers: TF.js layers (Keras) and graph models → graft IR. */
import type { Model } from '../onnx/ir.js';
import { importKerasModel, type KerasImportOptions, type LayersModelJson } from './keras/index.js';
import { importTfjsGraphModel, type GraphImportOptions, type GraphModelJson } from './tfjs-graph/index.js';
import type { ShardMap, WeightsManifest } from './tfjs-weights.js';

export { importKerasModel, importKerasTopology } from './keras/index.js';
export type { KerasImportOptions, LayersModelJson } from './keras/index.js';
export { importTfjsGraphModel, importGraphTopology } from './tfjs-graph/index.js';
export type { GraphImportOptions, GraphModelJson } from './tfjs-graph/index.js';
export { decodeWeights } from './tfjs-weights.js';
export type {
  ShardMap,
  WeightEntry,
  WeightGroup,
  WeightsManifest,
  WeightQuantization,
} from './tfjs-weights.js';

/** Any TF.js model.json. */
export interface TfjsJson {
  readonly modelTopology: unknown;
  readonly weightsManifest: WeightsManifest;
  readonly format?: string;
}

export type TfjsImportOptions = KerasImportOptions & GraphImportOptions;

/** 'tfjs-graph' for graph models (format 'graph-model' or a GraphDef node list), else 'keras-layers'. */
export function tfjsFormat(json: TfjsJson): 'keras-layers' | 'tfjs-graph' {
  const topo = json.modelTopology;
  if (json.format === 'graph-model') return 'tfjs-graph';
  if (typeof topo === 'object' && topo !== null && 'node' in topo) return 'tfjs-graph';
  return 'keras-layers';
}

/** Imports a TF.js model of either kind. */
export function importTfjsModel(json: TfjsJson, shards: ShardMap, options: TfjsImportOptions = {}): Model {
  return tfjsFormat(json) === 'tfjs-graph'
    ? importTfjsGraphModel(json as unknown as GraphModelJson, shards, options)
    : importKerasModel(json as unknown as LayersModelJson, shards, options);
}
