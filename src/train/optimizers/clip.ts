/** Gradient clipping by global L2 norm — torch.nn.utils.clip_grad_norm_ semantics. */
import type { ParamMap } from './optimizer.js';

/** Global L2 norm of all gradients (accumulated in float64). */
export function globalNorm(grads: ParamMap): number {
  let sum = 0;
  for (const g of grads.values()) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return Math.sqrt(sum);
}

/**
 * Scales all gradients in place by maxNorm / (norm + 1e-6) when that factor is below 1.
 * Returns the norm before clipping.
 */
export function clipGradNorm(grads: ParamMap, maxNorm: number): number {
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) {
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
  }
  return norm;
}
