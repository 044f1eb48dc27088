/**
 * The one dense head, for every modality: linear (logistic regression) or MLP, as an ONNX graph. One builder serves
 * training (dropout active, logits out) and export (softmax probabilities out). Layers are Gemm with the weight
 * [out, in] and transB — PyTorch's nn.Linear layout, which Hugging Face classifier heads share — initialised as
 * nn.Linear does; parameters are plain Float32Arrays named `dense<i>/weight`, `dense<i>/bias`.
 */
import { GraftError } from '../errors.js';
import { attr, GraphBuilder } from '../onnx/builder.js';
import type { Graph } from '../onnx/ir.js';
import { float32, type Tensor } from '../tensor.js';

export type Activation = 'relu' | 'gelu' | 'tanh' | 'sigmoid';

/**
 * A linear head's dropout applies to its input (Hugging Face's classifier dropout); an MLP's, after every hidden
 * activation. Both are active in training graphs only.
 */
export type DenseHeadSpec =
  | { kind: 'linear'; dropout?: number }
  | { kind: 'mlp'; hidden: readonly number[]; activation?: Activation; dropout?: number };

/** Feature standardisation folded into the head: (x - mean) / std. */
export interface Standardizer {
  mean: Float32Array;
  std: Float32Array;
}

export interface DenseHeadOptions {
  inputDim: number;
  numClasses: number;
  /** Training graphs keep dropout active and output logits; export graphs output probabilities. */
  mode: 'train' | 'export';
  standardize?: Standardizer;
  inputName?: string;
  /** Export mode: also output the logits (after the probabilities). */
  exportLogits?: boolean;
}

export interface DenseHeadGraph {
  graph: Graph;
  input: string;
  /** 'logits' in training mode, 'probabilities' in export mode. */
  output: string;
  /** The last layer's output: 'logits' in both modes. */
  logits: string;
  /** Parameter names in the order they are created. */
  paramNames: string[];
}

const ACTIVATION_OPS: Record<Activation, string> = {
  relu: 'Relu',
  gelu: 'Gelu',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
};

/** Sizes of the Gemm layers: [[in, out], …]. */
export function layerSizes(spec: DenseHeadSpec, inputDim: number, numClasses: number): [number, number][] {
  const widths = [inputDim, ...(spec.kind === 'mlp' ? spec.hidden : []), numClasses];
  return widths.slice(1).map((w, i) => [widths[i]!, w]);
}

/** Training graphs' dropout noise inputs are named `…dropout/noise<k>` ([batch, width], uniform in [0, 1)). */
export const DROPOUT_NOISE = 'dropout/noise';

/** Whether a graph input is dropout noise (its name may carry a prefix, e.g. `head/`). */
export function isDropoutNoise(name: string): boolean {
  return /(^|\/)dropout\/noise\d+$/.test(name);
}

export function buildDenseHead(spec: DenseHeadSpec, options: DenseHeadOptions): DenseHeadGraph {
  if (options.numClasses < 2) throw new GraftError('BAD_INPUT', 'a classifier needs at least 2 classes');
  const b = new GraphBuilder('head');
  const input = b.input(options.inputName ?? 'features', 'float32', ['batch', options.inputDim]);
  const training = options.mode === 'train';
  let noiseInputs = 0;
  // Dropout keeps x where fed uniform noise ≥ p, scaled by 1/(1-p): the noise comes from the trainer's seeded
  // generator (TrainableGraph), whose state checkpoints carry, so a resumed run draws the same masks.
  const dropout = (x: string, width: number): string => {
    const p = spec.dropout ?? 0;
    if (!(p > 0 && training)) return x;
    const noise = b.input(`${DROPOUT_NOISE}${noiseInputs++}`, 'float32', ['batch', width]);
    const keep = b.op(
      'Cast',
      [b.op('GreaterOrEqual', [noise, b.constant('dropout/ratio', float32([], [p]))])],
      {
        to: attr.int(1),
      },
    );
    return b.op('Mul', [x, b.op('Mul', [keep, b.constant('dropout/scale', float32([], [1 / (1 - p)]))])]);
  };
  let x = input;
  if (options.standardize) {
    const { mean, std } = options.standardize;
    const m = b.constant('standardize/mean', float32([options.inputDim], mean));
    const s = b.constant('standardize/std', float32([options.inputDim], std));
    x = b.op('Div', [b.op('Sub', [x, m]), s]);
  }
  if (spec.kind === 'linear') x = dropout(x, options.inputDim);
  const sizes = layerSizes(spec, options.inputDim, options.numClasses);
  const paramNames: string[] = [];
  const logits = 'logits';
  sizes.forEach(([fanIn, fanOut], i) => {
    const w = `dense${i}/weight`;
    const bias = `dense${i}/bias`;
    b.initializer(w, float32([fanOut, fanIn]));
    b.initializer(bias, float32([fanOut]));
    paramNames.push(w, bias);
    const last = i === sizes.length - 1;
    x = b.op(
      'Gemm',
      [x, w, bias],
      { transB: attr.int(1) },
      { name: `dense${i}`, ...(last ? { outputs: [logits] } : {}) },
    );
    if (!last && spec.kind === 'mlp')
      x = dropout(b.op(ACTIVATION_OPS[spec.activation ?? 'relu'], [x]), fanOut);
  });
  const output = training ? logits : 'probabilities';
  if (!training) b.op('Softmax', [logits], { axis: attr.int(-1) }, { outputs: [output] });
  b.output(output, 'float32', ['batch', options.numClasses]);
  if (!training && options.exportLogits) b.output(logits, 'float32', ['batch', options.numClasses]);
  return { graph: b.graph, input, output, logits, paramNames };
}

/**
 * PyTorch nn.Linear's default initialisation, U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases,
 * from a seeded uniform generator.
 */
export function initDenseParams(
  spec: DenseHeadSpec,
  inputDim: number,
  numClasses: number,
  uniform: () => number,
): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  layerSizes(spec, inputDim, numClasses).forEach(([fanIn, fanOut], i) => {
    const bound = 1 / Math.sqrt(fanIn);
    const draw = (n: number) => Float32Array.from({ length: n }, () => (uniform() * 2 - 1) * bound);
    params.set(`dense${i}/weight`, draw(fanOut * fanIn));
    params.set(`dense${i}/bias`, draw(fanOut));
  });
  return params;
}

/** Writes trained parameter values into a head graph's initializers (for export). */
export function withParams(graph: Graph, params: ReadonlyMap<string, Float32Array>): Graph {
  const initializers = new Map(graph.initializers);
  for (const [name, value] of params) {
    const old = initializers.get(name);
    if (!old) throw new GraftError('BAD_INPUT', `head has no parameter '${name}'`);
    initializers.set(name, { ...old, data: value } as Tensor);
  }
  return { ...graph, initializers };
}
