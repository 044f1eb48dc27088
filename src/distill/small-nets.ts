/**
 * Students trained from scratch for edge targets, as Backbones on the raw-pixel preprocessing (models/pixels.ts:
 * 28×28 gray digits stay 28×28 gray, anything else 32×32 RGB): `cnn` is two 3×3 conv + ReLU + 2×2 max-pool
 * stages (32 and 64 channels, the classic Keras MNIST convnet's feature extractor) flattened; `mlp` is the
 * pixels themselves, and its hidden layer is the dense head's. Weights start He-initialised (heInit).
 */
import type { Example, ImageSource } from '../data/types.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import { createModel } from '../onnx/ir.js';
import { pixelBackbone, pixelPreprocess, pixelSpec } from '../models/pixels.js';
import type { Backbone } from '../models/registry.js';

export const CNN_ID = 'cnn';
export const CNN_INPUT = 'pixels';
export const CNN_FEATURES = 'cnn_features';
const CHANNELS = [32, 64] as const;

/** The small CNN for these examples' pixel size. */
export function smallCnn(examples: readonly Example<ImageSource>[]): Backbone {
  const pre = pixelPreprocess(examples);
  const [h, w] = pre.size;
  const b = new GraphBuilder('cnn');
  b.input(CNN_INPUT, 'float32', ['batch', h, w, pre.channels]);
  let x = b.op('Transpose', [CNN_INPUT], { perm: attr.ints([0, 3, 1, 2]) });
  let inC: number = pre.channels;
  let side = [h, w];
  CHANNELS.forEach((outC, i) => {
    const weight = b.initializer(`conv${i}/weight`, {
      dtype: 'float32',
      shape: [outC, inC, 3, 3],
      data: new Float32Array(outC * inC * 9),
    });
    const bias = b.initializer(`conv${i}/bias`, {
      dtype: 'float32',
      shape: [outC],
      data: new Float32Array(outC),
    });
    const conv = b.op('Conv', [x, weight, bias], {
      kernel_shape: attr.ints([3, 3]),
      pads: attr.ints([1, 1, 1, 1]),
    });
    x = b.op('MaxPool', [b.op('Relu', [conv])], {
      kernel_shape: attr.ints([2, 2]),
      strides: attr.ints([2, 2]),
    });
    inC = outC;
    side = side.map((s) => Math.floor(s / 2));
  });
  const dim = inC * side[0]! * side[1]!;
  b.node('Flatten', [x], { axis: attr.int(1) }, { outputs: [CNN_FEATURES] });
  b.output(CNN_FEATURES, 'float32', ['batch', dim]);
  const spec = {
    ...pixelSpec(pre),
    id: CNN_ID,
    source: CNN_ID,
    description: `small CNN from scratch (conv ${CHANNELS.join('-')}, ${h}x${w} ${pre.channels === 1 ? 'gray' : 'RGB'})`,
    inputName: CNN_INPUT,
    featureTensor: CNN_FEATURES,
    candidateFeatures: [CNN_FEATURES],
    license: 'none (trained here)',
  };
  return { spec, model: createModel(b.graph, 13) };
}

/** The MLP student's backbone: raw pixels (its hidden layer belongs to the head). */
export function pixelsForMlp(examples: readonly Example<ImageSource>[]): Backbone {
  return pixelBackbone(examples);
}
