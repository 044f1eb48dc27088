/** Hand-written Keras 2.x model JSON (TF.js layers format) with seeded float32 weights, for tests. */
import type { KerasModelConfig, LayersModelJson } from '../../src/importers/keras/index.js';
import type { WeightEntry } from '../../src/importers/tfjs-weights.js';
import { seeded } from './helpers.js';

type Json = Record<string, unknown>;

export class KerasJsonBuilder {
  readonly layers: Json[] = [];
  readonly weights: { entry: WeightEntry; data: Float32Array }[] = [];
  private seed = 1;

  constructor(private readonly sequential = false) {}

  input(name: string, shape: (number | null)[]): string {
    this.layers.push({
      name,
      class_name: 'InputLayer',
      config: { batch_input_shape: shape, dtype: 'float32', sparse: false, name },
      inbound_nodes: [],
    });
    return name;
  }

  layer(
    className: string,
    name: string,
    config: Json,
    inputs: string[],
    weights: [string, number[], number?][] = [],
  ): string {
    const layer: Json = { name, class_name: className, config: { name, trainable: true, ...config } };
    if (!this.sequential) layer['inbound_nodes'] = [inputs.map((i) => [i, 0, 0, {}])];
    this.layers.push(layer);
    for (const [w, shape, lo] of weights) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = seeded(n, this.seed++, lo ?? -0.5, lo === undefined ? 0.5 : lo + 1);
      this.weights.push({ entry: { name: `${name}/${w}`, shape, dtype: 'float32' }, data });
    }
    return name;
  }

  build(inputs: string[], outputs: string[]): { json: LayersModelJson; shards: Map<string, Uint8Array> } {
    const config = this.sequential
      ? { class_name: 'Sequential', config: { name: 'seq', layers: this.layers } }
      : {
          class_name: 'Model',
          config: {
            name: 'fn',
            layers: this.layers,
            input_layers: inputs.map((i) => [i, 0, 0]),
            output_layers: outputs.map((o) => [o, 0, 0]),
          },
        };
    const total = this.weights.reduce((a, w) => a + w.data.byteLength, 0);
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const w of this.weights) {
      bytes.set(new Uint8Array(w.data.buffer), o);
      o += w.data.byteLength;
    }
    const json: LayersModelJson = {
      modelTopology: {
        model_config: config as unknown as KerasModelConfig,
        keras_version: '2.2.4',
        backend: 'tensorflow',
      },
      weightsManifest: [{ paths: ['shard1'], weights: this.weights.map((w) => w.entry) }],
    };
    return { json, shards: new Map([['shard1', bytes]]) };
  }
}

const conv = (
  filters: number,
  k: number,
  strides: number,
  padding: string,
  activation = 'linear',
  extra: Json = {},
): Json => ({
  filters,
  kernel_size: [k, k],
  strides: [strides, strides],
  padding,
  data_format: 'channels_last',
  dilation_rate: [1, 1],
  activation,
  use_bias: true,
  ...extra,
});

const bn = (c: number): [string, number[], number?][] => [
  ['gamma', [c]],
  ['beta', [c]],
  ['moving_mean', [c]],
  ['moving_variance', [c], 0.5],
];

/** A functional model touching most supported layers; outputs a softmax and a rank-4 tensor. */
export function functionalModel(): ReturnType<KerasJsonBuilder['build']> {
  const b = new KerasJsonBuilder();
  const x = b.input('img', [null, 9, 9, 3]);
  const c1 = b.layer(
    'Conv2D',
    'c1',
    conv(8, 3, 2, 'same', 'relu'),
    [x],
    [
      ['kernel', [3, 3, 3, 8]],
      ['bias', [8]],
    ],
  );
  const dw = b.layer(
    'DepthwiseConv2D',
    'dw',
    {
      kernel_size: [3, 3],
      strides: [1, 1],
      padding: 'same',
      depth_multiplier: 1,
      activation: 'relu6',
      use_bias: true,
      data_format: 'channels_last',
      dilation_rate: [1, 1],
    },
    [c1],
    [
      ['depthwise_kernel', [3, 3, 8, 1]],
      ['bias', [8]],
    ],
  );
  const sep = b.layer(
    'SeparableConv2D',
    'sep',
    { ...conv(8, 3, 2, 'same'), depth_multiplier: 2 },
    [c1],
    [
      ['depthwise_kernel', [3, 3, 8, 2]],
      ['pointwise_kernel', [1, 1, 16, 8]],
      ['bias', [8]],
    ],
  );
  const norm = b.layer(
    'BatchNormalization',
    'bn',
    { axis: -1, epsilon: 0.001, center: true, scale: true },
    [sep],
    bn(8),
  );
  const r6 = b.layer('ReLU', 'r6', { max_value: 6 }, [norm]);
  const ap = b.layer(
    'AveragePooling2D',
    'ap',
    { pool_size: [3, 3], strides: [2, 2], padding: 'same', data_format: 'channels_last' },
    [dw],
  );
  const mul = b.layer('Multiply', 'mul', {}, [r6, ap]);
  const add = b.layer('Add', 'add', {}, [mul, r6]);
  const cat = b.layer('Concatenate', 'cat', { axis: -1 }, [add, ap]);
  const zp = b.layer(
    'ZeroPadding2D',
    'zp',
    {
      padding: [
        [1, 0],
        [0, 1],
      ],
      data_format: 'channels_last',
    },
    [cat],
  );
  const mp = b.layer(
    'MaxPooling2D',
    'mp',
    { pool_size: [2, 2], strides: [2, 2], padding: 'valid', data_format: 'channels_last' },
    [zp],
  );
  const gmp = b.layer('GlobalMaxPooling2D', 'gmp', { data_format: 'channels_last' }, [cat]);
  const fl = b.layer('Flatten', 'fl', { data_format: 'channels_last' }, [mp]);
  const rs = b.layer('Reshape', 'rs', { target_shape: [4, 1, 16] }, [fl]);
  const gap = b.layer('GlobalAveragePooling2D', 'gap', { data_format: 'channels_last' }, [rs]);
  const d1 = b.layer(
    'Dense',
    'd1',
    { units: 6, activation: 'tanh', use_bias: true },
    [fl],
    [
      ['kernel', [64, 6]],
      ['bias', [6]],
    ],
  );
  let h = d1;
  for (const a of ['elu', 'selu', 'softplus', 'hard_sigmoid', 'swish', 'sigmoid', 'relu', 'linear']) {
    h = b.layer('Activation', `act_${a}`, { activation: a }, [h]);
  }
  const drop = b.layer('Dropout', 'drop', { rate: 0.5 }, [h]);
  const cat2 = b.layer('Concatenate', 'cat2', { axis: 1 }, [drop, gmp, gap]);
  const d2 = b.layer(
    'Dense',
    'd2',
    { units: 3, activation: 'linear', use_bias: true },
    [cat2],
    [
      ['kernel', [38, 3]],
      ['bias', [3]],
    ],
  );
  const sm = b.layer('Softmax', 'sm', { axis: -1 }, [d2]);
  return b.build([x], [sm, mp]);
}

/** A Sequential model without an InputLayer (batch_input_shape on the first layer). */
export function sequentialModel(): ReturnType<KerasJsonBuilder['build']> {
  const b = new KerasJsonBuilder(true);
  b.layer(
    'Conv2D',
    'sc1',
    { ...conv(4, 3, 1, 'valid'), batch_input_shape: [null, 8, 8, 2], use_bias: false },
    [],
    [['kernel', [3, 3, 2, 4]]],
  );
  b.layer(
    'BatchNormalization',
    'sbn',
    { axis: 3, epsilon: 0.001, center: true, scale: false },
    [],
    [
      ['beta', [4]],
      ['moving_mean', [4]],
      ['moving_variance', [4], 0.5],
    ],
  );
  b.layer('Activation', 'sact', { activation: 'relu' }, []);
  b.layer(
    'Conv2D',
    'sc2',
    conv(5, 3, 2, 'same', 'elu'),
    [],
    [
      ['kernel', [3, 3, 4, 5]],
      ['bias', [5]],
    ],
  );
  b.layer(
    'AveragePooling2D',
    'sap',
    { pool_size: [2, 2], strides: [1, 1], padding: 'valid', data_format: 'channels_last' },
    [],
  );
  b.layer('Flatten', 'sfl', {}, []);
  b.layer('Dropout', 'sdrop', { rate: 0.3 }, []);
  b.layer(
    'Dense',
    'sd',
    { units: 3, activation: 'softmax', use_bias: true },
    [],
    [
      ['kernel', [20, 3]],
      ['bias', [3]],
    ],
  );
  return b.build([], []);
}
