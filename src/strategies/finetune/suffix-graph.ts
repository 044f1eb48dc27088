/**
 * The graphs a BackboneTrainable runs: the backbone suffix (cut tensor → features), pooled when spatial, a dense
 * head, and for training softmax cross-entropy + graft's reverse-mode gradients. BatchNormalization nodes are
 * normalised to the chosen mode: 'frozen' (inference form, running statistics stay initializers) or 'train'
 * (batch statistics; running statistics become inputs and their updates extra outputs).
 */
import {
  addDistillationObjective,
  addSoftmaxCrossEntropy,
  buildTrainingGraph,
  type CrossEntropyOptions,
} from '../../autodiff/index.js';
import { GraftError } from '../../errors.js';
import { buildDenseHead, type DenseHeadSpec } from '../../heads/dense.js';
import { attr, GraphBuilder } from '../../onnx/builder.js';
import { cloneModel, type Graph, type Model } from '../../onnx/ir.js';
import { append, extract } from '../../onnx/surgery.js';
import { emitGridPool, pooledDim } from '../../features/feature-id.js';
import { bnStatistics } from './cut.js';
import { nativeDepthwiseMode } from '../../runtime/native-ops.js';
import { resolveNativeDepthwise } from '../../autodiff/rules/depthwise-native.js';

export type BnMode = 'frozen' | 'train';

export interface SuffixSpec {
  backbone: Model;
  /** Where the suffix starts (a graph input for full fine-tuning). */
  cut: string;
  /** Per-example shape of the cut tensor (no batch axis). */
  cutShape: readonly number[];
  featureTensor: string;
  /** Per-example shape of the feature tensor: [C] or [C, H, W] (average-pooled over `featureGrid`). */
  featureShape: readonly number[];
  /** Regions per side of the pooling grid (features/feature-id.ts); 1 (default) pools globally. */
  featureGrid?: number;
  numClasses: number;
  head: DenseHeadSpec;
  bnMode: BnMode;
  /** ONNX BN momentum in 'train' mode: running = running * momentum + batch * (1 - momentum). Default 0.9. */
  bnMomentum?: number;
  loss?: CrossEntropyOptions;
  /**
   * Train by distillation instead: the training graph takes the teacher's logits ([batch, numClasses], input
   * TEACHER_LOGITS) and labels of -1 mark unlabelled examples (autodiff/distill-loss.ts).
   */
  distill?: { temperature: number; alpha: number };
}

export const HEAD_PREFIX = 'head/';
export const POOLED = 'graft_pooled_features';
export const LOGITS = `${HEAD_PREFIX}logits`;
export const PROBABILITIES = `${HEAD_PREFIX}probabilities`;
/** The training graph's teacher-logits input when distilling. */
export const TEACHER_LOGITS = 'teacher_logits';

export interface SuffixGraphs {
  /** The suffix + head in inference form (probabilities), weights as initializers. */
  inference: Model;
  /** Input name (the cut tensor). */
  input: string;
  /** Head parameter names as they appear in the merged graphs. */
  headParams: string[];
  /** BN running statistics of the suffix (name pairs), and the training outputs that update them. */
  bnStats: { mean: string; variance: string; meanOut?: string; varianceOut?: string }[];
  /** Width of the pooled features the head reads. */
  featureDim: number;
}

function suffixWithHead(s: SuffixSpec, mode: 'train' | 'export'): { model: Model; headParams: string[] } {
  const g = s.backbone.graph;
  const info = { name: s.cut, dtype: 'float32' as const, shape: ['batch', ...s.cutShape] };
  let graph: Graph;
  if (s.cut === s.featureTensor) {
    graph = { ...extract(g, [s.cut], [s.cut], new Map([[s.cut, info]])), nodes: [] };
    graph.initializers = new Map();
  } else {
    graph = extract(g, [s.cut], [s.featureTensor], new Map([[s.cut, info]]));
  }
  const b = new GraphBuilder(graph);
  const spatial = s.featureShape.length === 3;
  if (!spatial && s.featureShape.length !== 1) {
    throw new GraftError('SHAPE_MISMATCH', `feature tensor '${s.featureTensor}' must be [N,C] or [N,C,H,W]`);
  }
  const grid = s.featureGrid ?? 1;
  if (spatial) emitGridPool(b, s.featureTensor, [s.featureShape[1]!, s.featureShape[2]!], grid, POOLED);
  else b.op('Flatten', [s.featureTensor], { axis: attr.int(1) }, { outputs: [POOLED] });
  const dim = pooledDim(s.featureShape, grid);
  graph.outputs = [{ name: POOLED, dtype: 'float32', shape: ['batch', dim] }];
  const head = buildDenseHead(s.head, {
    inputDim: dim,
    numClasses: s.numClasses,
    mode,
  });
  const merged = append(graph, head.graph, POOLED, { namePrefix: HEAD_PREFIX });
  const model = { ...cloneModel(s.backbone), graph: merged };
  return { model, headParams: head.paramNames.map((p) => `${HEAD_PREFIX}${p}`) };
}

/** Rewrites every BatchNormalization of `graph` to the mode; returns the running statistics it touched. */
function setBnMode(graph: Graph, mode: BnMode, momentum: number): SuffixGraphs['bnStats'] {
  const stats = bnStatistics(graph);
  const out: SuffixGraphs['bnStats'] = [];
  for (const { node, mean, variance } of stats) {
    const attrs = { ...node.attrs };
    delete attrs['training_mode'];
    delete attrs['momentum'];
    if (mode === 'train') {
      const meanOut = `${mean}:updated`;
      const varianceOut = `${variance}:updated`;
      node.attrs = { ...attrs, training_mode: attr.int(1), momentum: attr.float(momentum) };
      node.outputs = [node.outputs[0]!, meanOut, varianceOut];
      out.push({ mean, variance, meanOut, varianceOut });
    } else {
      node.attrs = attrs;
      node.outputs = [node.outputs[0]!];
      out.push({ mean, variance });
    }
  }
  return out;
}

/** Moves named initializers to graph inputs (values fed at run time). */
export function initializersToInputs(graph: Graph, names: Iterable<string>): void {
  for (const name of names) {
    const t = graph.initializers.get(name);
    if (!t) continue;
    graph.initializers.delete(name);
    graph.inputs.push({ name, dtype: 'float32', shape: [...t.shape] });
  }
}

export interface TrainingGraphs extends SuffixGraphs {
  training: Model;
  loss: string;
  gradients: Readonly<Record<string, string>>;
  /** The inference model with `params` (and BN buffers in 'train' mode) as inputs. */
  inferenceWithInputs: Model;
}

/** Builds the training model (params = `trainable` ∪ head params) and the matching inference models. */
export function buildSuffixGraphs(s: SuffixSpec, trainable: readonly string[]): TrainingGraphs {
  const train = suffixWithHead(s, 'train');
  const momentum = s.bnMomentum ?? 0.9;
  const bnStats = setBnMode(train.model.graph, s.bnMode, momentum);
  const b = new GraphBuilder(train.model.graph);
  const labels = b.input('labels', 'int64', ['batch']);
  const loss = s.distill
    ? addDistillationObjective(
        b,
        LOGITS,
        b.input(TEACHER_LOGITS, 'float32', ['batch', s.numClasses]),
        labels,
        {
          ...s.distill,
          numClasses: s.numClasses,
        },
      ).loss
    : addSoftmaxCrossEntropy(b, LOGITS, labels, s.numClasses, s.loss);
  b.output(loss, 'float32', []);
  const params = [...trainable, ...train.headParams];
  for (const p of trainable) {
    if (!train.model.graph.initializers.has(p)) {
      throw new GraftError('BAD_OPTION', `'${p}' is not a weight of the trainable suffix`, { param: p });
    }
  }
  const buffers = s.bnMode === 'train' ? bnStats.flatMap((x) => [x.mean, x.variance]) : [];
  initializersToInputs(train.model.graph, buffers);
  const extras = bnStats.flatMap((x) => (x.meanOut ? [x.meanOut, x.varianceOut!] : []));
  const tg = buildTrainingGraph(train.model, {
    params,
    loss,
    extraOutputs: extras,
    nativeDepthwise: resolveNativeDepthwise(nativeDepthwiseMode(), train.model, params),
  });

  const inference = suffixWithHead(s, 'export');
  setBnMode(inference.model.graph, 'frozen', momentum);
  const inferenceWithInputs = cloneModel(inference.model);
  initializersToInputs(inferenceWithInputs.graph, [...params, ...buffers]);
  return {
    inference: inference.model,
    inferenceWithInputs,
    input: s.cut,
    headParams: train.headParams,
    bnStats,
    featureDim: pooledDim(s.featureShape, s.featureGrid ?? 1),
    training: tg.model,
    loss: tg.loss,
    gradients: tg.gradients,
  };
}
