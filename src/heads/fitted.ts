/**
 * One interface over every head kind: dense heads train by gradient descent (graft's autodiff), kNN and
 * nearest-class-mean fit in closed form; all predict through ONNX Runtime and export as an ONNX graph.
 */
import type { FeatureMatrix } from '../features/matrix.js';
import type { DenseHeadSpec } from './dense.js';
import { knnGraph, ncmGraph } from './graphs.js';
import { NearestClassMean } from './ncm.js';
import { createModel, type Graph } from '../onnx/ir.js';
import { Session } from '../runtime/session.js';
import type { History } from '../train/index.js';
import { trainHead, type HeadTrainingOptions } from './fit-dense.js';
import type { HeadModel } from './head-model.js';

export type HeadKind = 'linear' | 'mlp' | 'knn' | 'ncm';

export interface HeadOptions extends Omit<HeadTrainingOptions, 'head'> {
  kind: HeadKind;
  /** MLP hidden sizes (default [1024], the classic Keras recipe). */
  hidden: number[];
  dropout: number;
  /** Neighbours for kNN. */
  k: number;
}

export interface FittedHead {
  predictProbs(data: FeatureMatrix): Promise<Float32Array>;
  /** features → probabilities, parameters baked in. */
  exportGraph(): Graph;
  history?: History;
  describe(): Record<string, unknown>;
  release(): Promise<void>;
}

export function denseSpec(o: Pick<HeadOptions, 'kind' | 'hidden' | 'dropout'>): DenseHeadSpec {
  return o.kind === 'mlp'
    ? { kind: 'mlp', hidden: o.hidden, activation: 'relu', dropout: o.dropout }
    : { kind: 'linear' };
}

const featureFeed = (m: FeatureMatrix) => ({
  features: { dtype: 'float32' as const, shape: [m.labels.length, m.dim], data: m.data },
});

class DenseFitted implements FittedHead {
  constructor(
    private readonly model: HeadModel,
    readonly history: History,
    private readonly spec: DenseHeadSpec,
  ) {}
  predictProbs(data: FeatureMatrix): Promise<Float32Array> {
    return this.model.predictProbs(featureFeed(data));
  }
  exportGraph(): Graph {
    return this.model.exportHead();
  }
  describe(): Record<string, unknown> {
    return { ...this.spec, standardized: Boolean(this.model.options.standardize) };
  }
  release(): Promise<void> {
    return this.model.release();
  }
}

class GraphFitted implements FittedHead {
  constructor(
    private readonly graph: Graph,
    private readonly session: Session,
    private readonly info: Record<string, unknown>,
  ) {}
  static async create(graph: Graph, info: Record<string, unknown>): Promise<GraphFitted> {
    return new GraphFitted(graph, await Session.create(createModel(graph)), info);
  }
  async predictProbs(data: FeatureMatrix): Promise<Float32Array> {
    const out = await this.session.run(featureFeed(data), ['probabilities']);
    return out['probabilities']!.data as Float32Array;
  }
  exportGraph(): Graph {
    return this.graph;
  }
  describe(): Record<string, unknown> {
    return this.info;
  }
  release(): Promise<void> {
    return this.session.release();
  }
}

export async function fitHead(
  train: FeatureMatrix,
  numClasses: number,
  o: HeadOptions,
  validation?: FeatureMatrix,
): Promise<FittedHead> {
  if (o.kind === 'knn') {
    const k = Math.min(o.k, train.labels.length);
    const graph = knnGraph({ bank: train.data, labels: train.labels, dim: train.dim, numClasses, k });
    return GraphFitted.create(graph, { kind: 'knn', k, metric: 'cosine' });
  }
  if (o.kind === 'ncm') {
    const ncm = new NearestClassMean(train.data, train.labels, train.dim, { numClasses, metric: 'cosine' });
    return GraphFitted.create(ncmGraph(ncm.toGemm()), {
      kind: 'ncm',
      metric: 'cosine',
      temperature: ncm.temperature,
    });
  }
  const spec = denseSpec(o);
  const { model, history } = await trainHead(train, numClasses, { ...o, head: spec }, validation);
  return new DenseFitted(model, history, spec);
}
