/** Optimizer base: parameter groups (lr multipliers, weight decay), state export/import for exact resume. */
import { GraftError, check } from '../../errors.js';

export type ParamMap = Map<string, Float32Array>;

/** A parameter group: named params sharing an lr multiplier and a weight decay. */
export interface ParamGroup {
  params: string[];
  /** Multiplies the optimizer's (scheduled) learning rate for these params. Default 1. */
  lrScale?: number;
  /** Overrides the optimizer's weight decay for these params. */
  weightDecay?: number;
}

export interface BaseOptimizerOptions {
  lr: number;
  weightDecay?: number;
  /** Params not listed in any group use lrScale 1 and the optimizer's weight decay. */
  groups?: ParamGroup[];
}

export type OptimizerKind = 'sgd' | 'adam' | 'adamw';

/** Plain, JSON-serialisable optimizer state: per-param slot buffers (float32 values) and step counts. */
export interface OptimizerState {
  kind: OptimizerKind;
  /** Number of step() calls so far. */
  step: number;
  lr: number;
  /** slots[paramName][slotName] = values, e.g. slots.w.exp_avg. */
  slots: Record<string, Record<string, number[]>>;
  /** Per-param update counts (params without a gradient at some step are skipped, as in PyTorch). */
  paramSteps: Record<string, number>;
}

/** One parameter's part of a step: its values, gradient, update count (from 1) and hyper-parameters. */
export interface ParamUpdate {
  name: string;
  p: Float32Array;
  g: Float32Array;
  t: number;
  h: ParamHyper;
}

/** Resolved per-param hyper-parameters. */
export interface ParamHyper {
  lrScale: number;
  weightDecay: number;
}

export abstract class Optimizer {
  abstract readonly kind: OptimizerKind;
  /** Base learning rate; a schedule sets it before each step. */
  lr: number;
  protected readonly weightDecay: number;
  protected readonly groups: readonly ParamGroup[];
  protected slots = new Map<string, Map<string, Float32Array>>();
  protected paramSteps = new Map<string, number>();
  protected stepCount = 0;

  protected constructor(options: BaseOptimizerOptions, defaultWeightDecay: number) {
    check(
      Number.isFinite(options.lr) && options.lr >= 0,
      'BAD_OPTION',
      `invalid learning rate ${options.lr}`,
    );
    this.lr = options.lr;
    this.weightDecay = options.weightDecay ?? defaultWeightDecay;
    check(this.weightDecay >= 0, 'BAD_OPTION', `invalid weight decay ${this.weightDecay}`);
    this.groups = options.groups ?? [];
    const seen = new Set<string>();
    for (const g of this.groups) {
      for (const name of g.params) {
        check(!seen.has(name), 'BAD_OPTION', `parameter '${name}' is in more than one group`, { name });
        seen.add(name);
      }
      check((g.lrScale ?? 1) >= 0, 'BAD_OPTION', `invalid lrScale ${g.lrScale}`);
    }
  }

  get steps(): number {
    return this.stepCount;
  }

  hyper(name: string): ParamHyper {
    for (const g of this.groups) {
      if (g.params.includes(name)) {
        return { lrScale: g.lrScale ?? 1, weightDecay: g.weightDecay ?? this.weightDecay };
      }
    }
    return { lrScale: 1, weightDecay: this.weightDecay };
  }

  /** Updates `params` in place. Params without an entry in `grads` are left alone. */
  step(params: ParamMap, grads: ParamMap): void {
    this.stepCount++;
    const updates: ParamUpdate[] = [];
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) throw new GraftError('BAD_INPUT', `gradient for unknown parameter '${name}'`, { name });
      if (p.length !== g.length) {
        // (not check(): its message would be built on every step of every parameter)
        throw new GraftError('SHAPE_MISMATCH', `gradient size ${g.length} ≠ parameter size ${p.length}`, {
          name,
        });
      }
      const t = (this.paramSteps.get(name) ?? 0) + 1;
      this.paramSteps.set(name, t);
      updates.push({ name, p, g, t, h: this.hyper(name) });
    }
    this.apply(updates);
  }

  /** Updates every listed parameter in place (one call per step, so an implementation can batch them). */
  protected abstract apply(updates: readonly ParamUpdate[]): void;

  protected setSlot(name: string, slotName: string, value: Float32Array): void {
    let m = this.slots.get(name);
    if (!m) this.slots.set(name, (m = new Map()));
    m.set(slotName, value);
  }

  state(): OptimizerState {
    const slots: OptimizerState['slots'] = {};
    for (const [name, m] of this.slots) {
      slots[name] = {};
      for (const [s, v] of m) slots[name]![s] = Array.from(v);
    }
    return {
      kind: this.kind,
      step: this.stepCount,
      lr: this.lr,
      slots,
      paramSteps: Object.fromEntries(this.paramSteps),
    };
  }

  loadState(state: OptimizerState): void {
    check(
      state.kind === this.kind,
      'BAD_INPUT',
      `optimizer state is for '${state.kind}', not '${this.kind}'`,
    );
    this.stepCount = state.step;
    this.lr = state.lr;
    this.slots = new Map();
    for (const [name, m] of Object.entries(state.slots)) {
      for (const [s, v] of Object.entries(m)) this.setSlot(name, s, Float32Array.from(v));
    }
    this.paramSteps = new Map(Object.entries(state.paramSteps));
  }
}
