/**
 * A modality plugin: what one kind of data (images, text…) brings to graft's shared core. The core (learner,
 * recipes, heads, checkpoints, export, reports, serving) never asks which kind of data it holds; where the kinds
 * differ, it asks the data's plugin. Adding a kind of data means adding a plugin here and its pipeline pieces,
 * not a branch in every command.
 */
import type { Example } from '../data/types.js';
import type { ModelManifest } from '../export/manifest.js';
import type { PredictInput } from '../predict/classifier.js';
import type { EncodeOptions } from '../predict/inputs.js';
import type { CandidateFeatures, SourceOptions } from '../rank/sources.js';
import type { Tensor } from '../tensor.js';

export type ModalityKind = 'image' | 'text';

export interface Modality {
  readonly kind: ModalityKind;
  /** What its examples are, for messages ("images", "texts"). */
  readonly plural: string;
  /** Models `rank` scores when none are named: the default pre-trained model and/or a no-transfer baseline. */
  readonly rankDefaults: readonly string[];
  /** The quantization a model of this kind gets unless told: static QDQ for convnets, dynamic for transformers. */
  readonly quantizeMode: 'static' | 'dynamic';
  /** What `predict` takes for one example of a data set of this kind. */
  exampleInput(e: Example<unknown>): PredictInput;
  /** What a command-line argument names: an image file, or a text. */
  argumentInput(arg: string): PredictInput;
  /** The exported model's input tensors for user inputs (decoded and resized, or tokenised). */
  encode(
    inputs: readonly PredictInput[],
    manifest: ModelManifest,
    dir: string,
    options: EncodeOptions,
  ): Promise<Record<string, Tensor>>;
  /** The candidate feature spaces of `model` on training examples, for `rank` (every cut of an image backbone…). */
  rankCandidates(
    model: string,
    examples: readonly Example<unknown>[],
    o: SourceOptions,
  ): Promise<CandidateFeatures[]>;
  /** The content key of one input entry of a batch prediction: sha256 of the file's bytes, or of the text. */
  inputKey(source: string): Promise<string>;
}
