/** Optimizers from a JSON-serialisable spec. */
import { GraftError } from '../../errors.js';
import { Adam, AdamW, type AdamOptions } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { SGD, type SgdOptions } from './sgd.js';

export { Adam, AdamW, type AdamOptions } from './adam.js';
export { SGD, type SgdOptions } from './sgd.js';
export { clipGradNorm, globalNorm } from './clip.js';
export {
  Optimizer,
  type BaseOptimizerOptions,
  type OptimizerKind,
  type OptimizerState,
  type ParamGroup,
  type ParamMap,
} from './optimizer.js';

export type OptimizerSpec =
  ({ kind: 'sgd' } & SgdOptions) | ({ kind: 'adam' } & AdamOptions) | ({ kind: 'adamw' } & AdamOptions);

export function createOptimizer(spec: OptimizerSpec): Optimizer {
  switch (spec.kind) {
    case 'sgd':
      return new SGD(spec);
    case 'adam':
      return new Adam(spec);
    case 'adamw':
      return new AdamW(spec);
  }
  throw new GraftError('BAD_OPTION', `unknown optimizer '${(spec as { kind: string }).kind}'`);
}
