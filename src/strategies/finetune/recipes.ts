/**
 * Fine-tuning recipes as data built on public primitives: each recipe is a list of phases (what is trainable,
 * for how many epochs, at which learning rate); layer-wise (discriminative) learning rates are optimizer param
 * groups. fastai's `fine_tune` is LP-FT: `freezeEpochs` with only the head, then unfreeze at a lower rate.
 */
import { GraftError } from '../../errors.js';
import type { Graph } from '../../onnx/ir.js';
import type { ParamGroup } from '../../train/optimizers/index.js';
import { blockKeyOf, type UnfreezeSpec } from './cut.js';

export type Strategy = 'linear-probe' | 'fine-tune' | 'lp-ft' | 'scratch';

export interface Phase {
  name: string;
  unfreeze: UnfreezeSpec;
  epochs: number;
  lr: number;
}

export interface RecipeOptions {
  strategy: Strategy;
  unfreeze: UnfreezeSpec;
  epochs: number;
  lr: number;
  /** LP-FT: epochs with only the head before unfreezing (fastai's freeze_epochs). Default 1. */
  freezeEpochs?: number;
  /** LP-FT: the unfrozen phase runs at lr / ftLrDivisor (fastai: base_lr/2 at the top). Default 2. */
  ftLrDivisor?: number;
}

/**
 * The head a recipe that trains through the backbone uses, for every modality: linear (also for `auto`) or an
 * MLP. Heads without a gradient are refused, never replaced.
 */
export function gradientHead(head: string, strategy: Strategy): 'linear' | 'mlp' {
  if (head === 'knn' || head === 'ncm')
    throw new GraftError(
      'BAD_OPTION',
      `--head ${head} cannot be trained by --strategy ${strategy}: it has no gradient; use --head linear or mlp, or --strategy linear-probe (a ${head} head on frozen features)`,
      { head, strategy },
    );
  return head === 'mlp' ? 'mlp' : 'linear';
}

/** The phases of a strategy. */
export function recipePhases(o: RecipeOptions): Phase[] {
  switch (o.strategy) {
    case 'linear-probe':
      return [{ name: 'linear-probe', unfreeze: 'none', epochs: o.epochs, lr: o.lr }];
    case 'fine-tune':
      return [{ name: 'fine-tune', unfreeze: o.unfreeze, epochs: o.epochs, lr: o.lr }];
    case 'scratch':
      return [{ name: 'scratch', unfreeze: 'all', epochs: o.epochs, lr: o.lr }];
    case 'lp-ft':
      return [
        { name: 'probe', unfreeze: 'none', epochs: o.freezeEpochs ?? 1, lr: o.lr },
        { name: 'fine-tune', unfreeze: o.unfreeze, epochs: o.epochs, lr: o.lr / (o.ftLrDivisor ?? 2) },
      ];
  }
}

/**
 * Gradual unfreezing (ULMFiT): head first, then one more block per phase, up to `blocks`, `epochsPerPhase` each.
 */
export function gradualUnfreezePhases(blocks: number, epochsPerPhase: number, lr: number): Phase[] {
  const phases: Phase[] = [{ name: 'head', unfreeze: 'none', epochs: epochsPerPhase, lr }];
  for (let k = 1; k <= blocks; k++)
    phases.push({ name: `last:${k}`, unfreeze: `last:${k}`, epochs: epochsPerPhase, lr });
  return phases;
}

/**
 * Layer-wise learning rates: the head gets lrScale 1, the deepest trainable unit (a block, or a top layer such as
 * the final conv) `decay`, the one before it decay², and so on. Units follow graph order; weights outside any
 * block form a 'stem' unit (before the first block) or a 'top' unit (after one). Returns one ParamGroup per unit (head included).
 */
export function layerwiseGroups(
  graph: Graph,
  trainable: readonly string[],
  headParams: readonly string[],
  decay: number,
): ParamGroup[] {
  const wanted = new Set(trainable);
  const unitOf = new Map<string, string>();
  const order: string[] = [];
  for (const node of graph.nodes) {
    for (const input of node.inputs) {
      if (!wanted.has(input) || unitOf.has(input)) continue;
      const unit = blockKeyOf(node.name) ?? (order.some((u) => u !== 'stem') ? 'top' : 'stem');
      unitOf.set(input, unit);
      if (!order.includes(unit)) order.push(unit);
    }
  }
  const groups: ParamGroup[] = order.map((unit, i) => ({
    params: trainable.filter((p) => unitOf.get(p) === unit),
    lrScale: decay ** (order.length - i),
  }));
  const missing = trainable.filter((p) => !unitOf.has(p));
  if (missing.length) groups.push({ params: missing, lrScale: decay });
  groups.push({ params: [...headParams], lrScale: 1 });
  return groups.filter((g) => g.params.length > 0);
}
