/** The parts of a TF.js layers-model JSON (Keras 2.x config format) the importer reads. */
import type { WeightsManifest } from '../tfjs-weights.js';

/** `[layer_name, node_index, tensor_index, kwargs?]` */
export type InboundRef = readonly [string, number, number, ...unknown[]];

export interface KerasLayerJson {
  readonly class_name: string;
  readonly name?: string;
  readonly config: Readonly<Record<string, unknown>>;
  /** Functional models only: one entry per call of the layer, each a list of input refs. */
  readonly inbound_nodes?: readonly (readonly InboundRef[])[];
}

export interface KerasModelConfig {
  readonly class_name: string;
  readonly config:
    | {
        readonly name?: string;
        readonly layers: readonly KerasLayerJson[];
        readonly input_layers?: readonly InboundRef[];
        readonly output_layers?: readonly InboundRef[];
      }
    | readonly KerasLayerJson[];
}

export interface KerasTopology {
  readonly model_config?: KerasModelConfig;
  readonly class_name?: string;
  readonly config?: KerasModelConfig['config'];
  readonly keras_version?: string;
  readonly backend?: string;
}

/** A TF.js model.json for a layers model. */
export interface LayersModelJson {
  readonly modelTopology: KerasTopology;
  readonly weightsManifest: WeightsManifest;
  readonly format?: string;
}
