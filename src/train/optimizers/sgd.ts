/** SGD with momentum, dampening, Nesterov and coupled (L2) weight decay — torch.optim.SGD semantics. */
import { check } from '../../errors.js';
import { Optimizer, type BaseOptimizerOptions, type ParamHyper, type ParamUpdate } from './optimizer.js';

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
    for (const u of updates) this.update(u.name, u.p, u.g, u.h);
  }

  private update(name: string, p: Float32Array, g: Float32Array, h: ParamHyper): void {
    const lr = this.lr * h.lrScale;
    const wd = h.weightDecay;
    const mu = this.momentum;
    if (mu === 0) {
      for (let i = 0; i < p.length; i++)
        p[i] = p[i]! - lr * (wd !== 0 ? Math.fround(g[i]! + wd * p[i]!) : g[i]!);
      return;
    }
    let buf = this.slots.get(name)?.get('momentum_buffer');
    // First step: the buffer starts as the (decayed) gradient itself — mu * 0 + 1 * d, undampened.
    const keep = buf ? 1 - this.dampening : 1;
    if (!buf) this.setSlot(name, 'momentum_buffer', (buf = new Float32Array(p.length)));
    momentumStep(p, g, buf, lr, wd, mu, keep, this.nesterov);
  }
}

/**
 * One momentum update over a parameter. A free function on locals: the per-element conditions are
 * loop-invariant, which V8 handles well (reading them from `this` in the loop cost 2x).
 */
function momentumStep(
  p: Float32Array,
  g: Float32Array,
  buf: Float32Array,
  lr: number,
  wd: number,
  mu: number,
  keep: number,
  nesterov: boolean,
): void {
  for (let i = 0; i < p.length; i++) {
    const d = wd !== 0 ? Math.fround(g[i]! + wd * p[i]!) : g[i]!;
    const b = Math.fround(mu * buf[i]!) + keep * d;
    buf[i] = b;
    p[i] = p[i]! - lr * (nesterov ? Math.fround(d + mu * b) : b);
  }
}
