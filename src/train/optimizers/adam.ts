/**
 * Adam (coupled L2 weight decay) and AdamW (decoupled weight decay) — torch.optim.Adam/AdamW semantics, every
 * operation in float32 (kernels.ts: the addon's SIMD loop, or the TypeScript one, with identical results).
 */
import { check } from '../../errors.js';
import { ADAM_SCALARS, adamScalars, optimizerKernels } from './kernels.js';
import { Optimizer, type BaseOptimizerOptions, type ParamUpdate } from './optimizer.js';

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

  protected apply(updates: readonly ParamUpdate[]): void {
    const m: Float32Array[] = [];
    const v: Float32Array[] = [];
    const scalars = new Float32Array(updates.length * ADAM_SCALARS);
    updates.forEach(({ name, p, t, h }, k) => {
      let mk = this.slots.get(name)?.get('exp_avg');
      let vk = this.slots.get(name)?.get('exp_avg_sq');
      if (!mk || !vk) {
        this.setSlot(name, 'exp_avg', (mk = new Float32Array(p.length)));
        this.setSlot(name, 'exp_avg_sq', (vk = new Float32Array(p.length)));
      }
      m.push(mk);
      v.push(vk);
      const { beta1, beta2, eps, decoupled } = this;
      adamScalars(
        { lr: this.lr * h.lrScale, beta1, beta2, eps, weightDecay: h.weightDecay, decoupled, t },
        scalars,
        k,
      );
    });
    optimizerKernels().adam(
      updates.map((u) => u.p),
      updates.map((u) => u.g),
      m,
      v,
      scalars,
    );
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
