/** Registry entries for the models bundled in npm `nsfwjs` (the offline default backbones). */
import type { ImagePreprocess, ModelSpec } from './spec.js';

const LICENSE = 'MIT (nsfwjs); ImageNet-derived weights';

/** nsfwjs feeds pixel/255, resized (bilinear) to a square without cropping, NHWC. */
function pixels01(size: number): ImagePreprocess {
  return {
    kind: 'image',
    size: [size, size],
    resizeShorter: size,
    crop: 'none',
    interpolation: 'bilinear',
    layout: 'NHWC',
    channels: 3,
    scale: 1 / 255,
    mean: [0, 0, 0],
    std: [1, 1, 1],
  };
}

/** nsfwjs's Keras classifier head after the pooled features (same layer names in both Keras models). */
const KERAS_HEAD = [
  'dense_1/Gemm',
  'dense_1/Relu',
  'dropout_2/Identity',
  'dense_2/Gemm',
  'dense_2/Relu',
  'dropout_3/Identity',
  'dense_3/Gemm',
  'dense_3/Softmax',
];

/** TF name prefixes stripped from mobilenet_v2_mid's node names when imported. */
export const MOBILENET_V2_MID_PREFIXES = [
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/',
  'StatefulPartitionedCall/sequential/',
];

export const NSFWJS_MODELS: readonly ModelSpec[] = [
  {
    id: 'npm:nsfwjs/mobilenet_v2',
    description: 'MobileNetV2 (Keras, 224x224), nsfwjs 5-class classifier; 1280-d pooled features',
    task: 'image',
    format: 'keras-layers',
    source: 'npm:nsfwjs/dist/models/mobilenet_v2',
    inputName: 'input_1',
    preprocess: pixels01(224),
    featureTensor: 'flatten_1',
    headNodes: KERAS_HEAD,
    // Mid-network maps also pooled over a 2×2 grid (feature-id.ts): layout survives, which far-from-ImageNet
    // domains need (10-shot MNIST: block_12_add 79.7% pooled globally, 91.9% over 2×2).
    candidateFeatures: [
      'block_8_add',
      'block_12_add',
      'block_12_add@2x2',
      'block_13_expand_relu',
      'block_13_expand_relu@2x2',
      'block_15_add',
      'block_15_add@2x2',
      'out_relu',
      'flatten_1',
    ],
    license: LICENSE,
  },
  {
    id: 'npm:nsfwjs/inception_v3',
    description: 'InceptionV3 (Keras, 299x299), nsfwjs 5-class classifier; 2048-d pooled features',
    task: 'image',
    format: 'keras-layers',
    source: 'npm:nsfwjs/dist/models/inception_v3',
    inputName: 'input_1',
    preprocess: pixels01(299),
    featureTensor: 'flatten_1',
    headNodes: KERAS_HEAD,
    candidateFeatures: ['mixed5', 'mixed5@2x2', 'mixed7', 'mixed7@2x2', 'mixed9', 'mixed10', 'flatten_1'],
    license: LICENSE,
  },
  {
    id: 'npm:nsfwjs/mobilenet_v2_mid',
    description:
      'MobileNetV2 1.4 (TF.js graph model, 224x224), nsfwjs 5-class classifier; 1792-d pooled features',
    task: 'image',
    format: 'tfjs-graph',
    source: 'npm:nsfwjs/dist/models/mobilenet_v2_mid',
    inputName: 'input',
    preprocess: pixels01(224),
    featureTensor: 'feature_vector/SpatialSqueeze',
    headNodes: ['dense/BiasAdd/Gemm', 'dense/BiasAdd/Add', 'prediction/Softmax/Softmax', 'Identity/Identity'],
    candidateFeatures: [
      'MobilenetV2/expanded_conv_8/add',
      'MobilenetV2/expanded_conv_12/add',
      'MobilenetV2/expanded_conv_12/add@2x2',
      'MobilenetV2/expanded_conv_15/add',
      'MobilenetV2/expanded_conv_15/add@2x2',
      'MobilenetV2/Conv_1/Relu6',
      'feature_vector/SpatialSqueeze',
    ],
    license: LICENSE,
  },
];

/** Import options per registry id (graph models: name prefixes to strip). */
export const NSFWJS_IMPORT_OPTIONS: Readonly<Record<string, { stripPrefixes?: readonly string[] }>> = {
  'npm:nsfwjs/mobilenet_v2_mid': { stripPrefixes: MOBILENET_V2_MID_PREFIXES },
};
