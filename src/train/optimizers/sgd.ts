/**
 * SGD with momentum, dampening, Nesterov and coupled (L2) weight decay — torch.optim.SGD semantics, every
 * operation in float32 (kernels.ts: the addon's SIMD loop, or the TypeScript one, with identical results).
 */
import { check } from '../../errors.js';
import { optimizerKernels, SGD_SCALARS, sgdScalars } from './kernels.js';
import { Optimizer, type BaseOptimizerOptions, type ParamUpdate } from './optimizer.js';

export interface SgdOptions extends BaseOptimizerOptions {
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  readonly kind = 'sgd' as const;
  private readonly momentum: number;
  private readonly dampening: number;
  private readonly nesterov: boolean;

  constructor(options: SgdOptions) {
    super(options, 0);
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    check(this.momentum >= 0, 'BAD_OPTION', `invalid momentum ${this.momentum}`);
    check(
      !this.nesterov || (this.momentum > 0 && this.dampening === 0),
      'BAD_OPTION',
      'Nesterov momentum requires a momentum and zero dampening',
    );
  }

  protected apply(updates: readonly ParamUpdate[]): void {
    const momentum = this.momentum !== 0;
    const buffers: Float32Array[] = [];
    const scalars = new Float32Array(updates.length * SGD_SCALARS);
    updates.forEach(({ name, p, h }, k) => {
      // A parameter's first step: its buffer starts as the (decayed) gradient itself, undampened.
      let keep = 1;
      if (momentum) {
        let buf = this.slots.get(name)?.get('momentum_buffer');
        if (buf) keep = 1 - this.dampening;
        else this.setSlot(name, 'momentum_buffer', (buf = new Float32Array(p.length)));
        buffers.push(buf);
      }
      const { momentum: mu, nesterov } = this;
      sgdScalars(
        { lr: this.lr * h.lrScale, weightDecay: h.weightDecay, momentum: mu, keep, nesterov },
        scalars,
        k,
      );
    });
    optimizerKernels().sgd(
      updates.map((u) => u.p),
      updates.map((u) => u.g),
      buffers,
      scalars,
    );
  }
}
