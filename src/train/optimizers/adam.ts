/** Adam (coupled L2 weight decay) and AdamW (decoupled weight decay) — torch.optim.Adam/AdamW semantics. */
import { check } from '../../errors.js';
import { Optimizer, type BaseOptimizerOptions, type ParamHyper } from './optimizer.js';

export interface AdamOptions extends BaseOptimizerOptions {
  betas?: [number, number];
  /** Added after the square root of the bias-corrected second moment. Default 1e-8. */
  eps?: number;
}

abstract class AdamBase extends Optimizer {
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly eps: number;
  protected abstract readonly decoupled: boolean;

  protected constructor(options: AdamOptions, defaultWeightDecay: number) {
    super(options, defaultWeightDecay);
    [this.beta1, this.beta2] = options.betas ?? [0.9, 0.999];
    this.eps = options.eps ?? 1e-8;
    for (const b of [this.beta1, this.beta2]) check(b >= 0 && b < 1, 'BAD_OPTION', `invalid beta ${b}`);
    check(this.eps >= 0, 'BAD_OPTION', `invalid eps ${this.eps}`);
  }

  protected update(name: string, p: Float32Array, g: Float32Array, t: number, h: ParamHyper): void {
    const lr = this.lr * h.lrScale;
    const wd = h.weightDecay;
    const { beta1, beta2, eps } = this;
    let m = this.slots.get(name)?.get('exp_avg');
    let v = this.slots.get(name)?.get('exp_avg_sq');
    if (!m || !v) {
      this.setSlot(name, 'exp_avg', (m = new Float32Array(p.length)));
      this.setSlot(name, 'exp_avg_sq', (v = new Float32Array(p.length)));
    }
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    // AdamW decays the weight (decay < 1), Adam adds wd * p to the gradient (coupled > 0); with the other
    // factor neutral (x * 1, g + 0 * p are exact) one loop without per-element branches serves both.
    const decay = this.decoupled && wd !== 0 ? Math.fround(1 - lr * wd) : 1;
    const coupled = this.decoupled ? 0 : wd;
    for (let i = 0; i < p.length; i++) {
      const pi = Math.fround(p[i]! * decay);
      const gi = Math.fround(g[i]! + coupled * p[i]!);
      const mi = (m[i] = m[i]! + (gi - m[i]!) * (1 - beta1));
      const vi = (v[i] = Math.fround(v[i]! * beta2) + Math.fround(gi * gi) * (1 - beta2));
      const denom = Math.fround(Math.fround(Math.sqrt(vi)) / bc2Sqrt) + eps;
      p[i] = pi - stepSize * Math.fround(mi / Math.fround(denom));
    }
  }
}

export class Adam extends AdamBase {
  readonly kind = 'adam' as const;
  protected readonly decoupled = false;
  constructor(options: AdamOptions) {
    super(options, 0);
  }
}

/** AdamW: params decay by (1 - lr·weightDecay) before the Adam step. Default weightDecay 0.01 (PyTorch). */
export class AdamW extends AdamBase {
  readonly kind = 'adamw' as const;
  protected readonly decoupled = true;
  constructor(options: AdamOptions) {
    super(options, 0.01);
  }
}
