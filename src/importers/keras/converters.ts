/** Keras layer class name → converter. */
import type { KerasContext, KTensor, LayerCall } from './context.js';
import {
  activation,
  batchNorm,
  concatenate,
  dense,
  flatten,
  identity,
  merge,
  relu,
  reshape,
  softmax,
} from './layers-core.js';
import {
  conv2d,
  depthwiseConv2d,
  globalPooling2d,
  pooling2d,
  separableConv2d,
  zeroPadding2d,
} from './layers-spatial.js';

export type LayerConverter = (ctx: KerasContext, call: LayerCall) => KTensor;

export const LAYER_CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  ZeroPadding2D: zeroPadding2d,
  Conv2D: conv2d,
  DepthwiseConv2D: depthwiseConv2d,
  SeparableConv2D: separableConv2d,
  BatchNormalization: batchNorm,
  ReLU: relu,
  Activation: activation,
  Add: (ctx, call) => merge(ctx, call, 'Add'),
  Multiply: (ctx, call) => merge(ctx, call, 'Mul'),
  Concatenate: concatenate,
  MaxPooling2D: (ctx, call) => pooling2d(ctx, call, 'MaxPool'),
  AveragePooling2D: (ctx, call) => pooling2d(ctx, call, 'AveragePool'),
  GlobalAveragePooling2D: (ctx, call) => globalPooling2d(ctx, call, 'ReduceMean'),
  GlobalMaxPooling2D: (ctx, call) => globalPooling2d(ctx, call, 'ReduceMax'),
  Flatten: flatten,
  Reshape: reshape,
  Dense: dense,
  Dropout: identity,
  Softmax: softmax,
};

/** Keras aliases (older/newer class names for the same layer). */
const ALIASES: Readonly<Record<string, string>> = {
  Convolution2D: 'Conv2D',
  MaxPool2D: 'MaxPooling2D',
  AvgPool2D: 'AveragePooling2D',
  GlobalAvgPool2D: 'GlobalAveragePooling2D',
  GlobalMaxPool2D: 'GlobalMaxPooling2D',
  SeparableConvolution2D: 'SeparableConv2D',
  SpatialDropout2D: 'Dropout',
  GaussianNoise: 'Dropout',
  GaussianDropout: 'Dropout',
  AlphaDropout: 'Dropout',
};

export function converterFor(className: string): LayerConverter | undefined {
  return LAYER_CONVERTERS[ALIASES[className] ?? className];
}
