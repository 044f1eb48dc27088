/** Shared fixtures for fine-tuning tests: MobileNetV2 (imported once per process) and a few MNIST digits. */
import { loadMnist } from '../../src/data/builtin-mnist.js';
import { sampleShots } from '../../src/data/split.js';
import type { Example, ImageSource } from '../../src/data/types.js';
import { loadBackbone, type Backbone } from '../../src/models/registry.js';
import type { ImagePreprocess } from '../../src/models/spec.js';
import {
  BackboneTrainable,
  type BackboneTrainableOptions,
} from '../../src/strategies/finetune/backbone-trainable.js';

export const MODEL = 'npm:nsfwjs/mobilenet_v2';

export async function mobilenet(): Promise<Backbone> {
  return loadBackbone(MODEL);
}

export function digits(perClass: number, seed = 0): Example<ImageSource>[] {
  return sampleShots(loadMnist(), perClass, seed).examples.filter((e) => e.label < 3);
}

export async function trainable(
  bb: Backbone,
  o: Partial<BackboneTrainableOptions> = {},
): Promise<BackboneTrainable> {
  return BackboneTrainable.create({
    backbone: bb.model,
    inputName: bb.spec.inputName,
    inputShape: [224, 224, 3],
    featureTensor: bb.spec.featureTensor,
    numClasses: 3,
    unfreeze: 'last:1',
    seed: 1,
    session: { threads: 2 },
    ...o,
  });
}

export function preprocessOf(bb: Backbone): ImagePreprocess {
  return bb.spec.preprocess as ImagePreprocess;
}
