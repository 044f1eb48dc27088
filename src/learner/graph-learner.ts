/**
 * The trainable models over a TrainableGraph. GraphModel: a model that trains and predicts through one graph (a
 * head on cached features). GraphLearner: what every learner whose trainable set changes between recipe phases
 * shares, for images and text alike — the current value of every weight that ever trained (values carry over by
 * name when the trainable set changes), the `params` the optimizer updates (refilled in place), and the
 * TrainableGraph built for the current set, which it swaps and releases. Subclasses build the graphs
 * (`setUnfreeze`).
 */
import type { Tensor } from '../tensor.js';
import type { Batch, TrainableModel, Uniform } from '../train/types.js';
import type { PhasedLearner } from './run-phases.js';
import type { Gradients, TrainableGraph } from './trainable-graph.js';

/** Trains and predicts through its current TrainableGraph. */
export abstract class GraphModel implements TrainableModel {
  abstract readonly params: Map<string, Float32Array>;
  /** The graph the model runs now. */
  protected abstract get graph(): TrainableGraph;

  computeGradients(batch: Batch, uniform?: Uniform): Promise<Gradients> {
    return this.graph.computeGradients(batch, uniform);
  }

  predictProbs(inputs: Record<string, Tensor>): Promise<Float32Array> {
    return this.graph.predictProbs(inputs);
  }

  shapeOf(name: string): readonly number[] | undefined {
    return this.graph.shapeOf(name);
  }

  release(): Promise<void> {
    return this.graph.release();
  }
}

export abstract class GraphLearner extends GraphModel implements PhasedLearner {
  /** The weights (and buffers) that train now; the optimizer updates them in place. */
  readonly params = new Map<string, Float32Array>();
  /** Current value of every weight that ever trained, and the head's. */
  protected readonly values = new Map<string, Float32Array>();
  private current: TrainableGraph | undefined;
  private builds = 0;

  abstract setUnfreeze(spec: string): Promise<void>;

  /** The graph built for the current trainable set. */
  protected get graph(): TrainableGraph {
    return this.current!;
  }

  /** How many times the graphs were built (1 after create). */
  get buildCount(): number {
    return this.builds;
  }

  /**
   * Swaps in a graph built for `names` (created with `params` as its parameter map): the old one is released and
   * `params` is refilled with each name's current value, or `initial(name)` the first time it trains.
   */
  protected async install(
    graph: TrainableGraph,
    names: readonly string[],
    initial: (name: string) => Float32Array,
  ): Promise<void> {
    const old = this.current;
    this.current = graph;
    this.builds++;
    if (old) await old.release();
    this.params.clear();
    for (const name of names) {
      let v = this.values.get(name);
      if (!v) this.values.set(name, (v = initial(name)));
      this.params.set(name, v);
    }
  }

  override release(): Promise<void> {
    return this.current?.release() ?? Promise.resolve();
  }
}
