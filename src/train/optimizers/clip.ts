/** Gradient clipping by global L2 norm — torch.nn.utils.clip_grad_norm_ semantics. */
import { optimizerKernels } from './kernels.js';
import type { ParamMap } from './optimizer.js';

/** Global L2 norm of all gradients (squares accumulated in float64, in a fixed order: kernels.ts). */
export function globalNorm(grads: ParamMap): number {
  let sum = 0;
  for (const s of optimizerKernels().sumSquares([...grads.values()])) sum += s;
  return Math.sqrt(sum);
}

/**
 * Scales all gradients in place by maxNorm / (norm + 1e-6) (rounded to float32, as PyTorch's float32 factor)
 * when that factor is below 1. Returns the norm before clipping.
 */
export function clipGradNorm(grads: ParamMap, maxNorm: number): number {
  const norm = globalNorm(grads);
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) optimizerKernels().scale([...grads.values()], coef);
  return norm;
}
