/**
 * Learning-rate schedules as pure functions of the optimizer step (0-based: lrAt(0) is the rate of the first
 * update). Semantics follow PyTorch's StepLR, CosineAnnealingLR, LinearLR, OneCycleLR and Hugging Face's
 * get_*_schedule_with_warmup (warmup from 0 to the peak, then the decay over the remaining steps).
 */
import { check } from '../errors.js';

export interface LrSchedule {
  lrAt(step: number): number;
}

interface WarmupSpec {
  /** Linear warmup from 0 over this many steps; the decay then runs over the remaining steps. */
  warmupSteps?: number;
  /** Alternative to warmupSteps: ceil(ratio × totalSteps). */
  warmupRatio?: number;
}

/** A JSON-serialisable schedule description; `makeSchedule` turns it into an LrSchedule. */
export type ScheduleSpec = WarmupSpec &
  (
    | { kind: 'constant' }
    | { kind: 'step'; stepSize: number; gamma?: number }
    | { kind: 'cosine'; minLr?: number }
    | { kind: 'linear'; endLr?: number }
    | {
        kind: 'onecycle';
        pctStart?: number;
        divFactor?: number;
        finalDivFactor?: number;
        anneal?: 'cos' | 'linear';
        threePhase?: boolean;
      }
  );

export function constantSchedule(lr: number): LrSchedule {
  return { lrAt: () => lr };
}

/** lr · gamma^floor(step / stepSize) (torch StepLR). */
export function stepSchedule(lr: number, stepSize: number, gamma = 0.1): LrSchedule {
  check(stepSize >= 1, 'BAD_OPTION', `step schedule needs stepSize ≥ 1, got ${stepSize}`);
  return { lrAt: (step) => lr * gamma ** Math.floor(step / stepSize) };
}

/** Cosine from lr to minLr over totalSteps, then minLr (torch CosineAnnealingLR with T_max = totalSteps). */
export function cosineSchedule(lr: number, totalSteps: number, minLr = 0): LrSchedule {
  return {
    lrAt: (step) =>
      minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * Math.min(step, totalSteps)) / totalSteps))) / 2,
  };
}

/** Linear from lr to endLr over totalSteps, then endLr (torch LinearLR). */
export function linearSchedule(lr: number, totalSteps: number, endLr = 0): LrSchedule {
  return { lrAt: (step) => lr + ((endLr - lr) * Math.min(step, totalSteps)) / totalSteps };
}

/** Linear warmup 0 → inner.lrAt(0) over warmupSteps, then inner shifted by warmupSteps. */
export function withWarmup(inner: LrSchedule, warmupSteps: number): LrSchedule {
  if (warmupSteps <= 0) return inner;
  const peak = inner.lrAt(0);
  return {
    lrAt: (step) => (step < warmupSteps ? (peak * step) / warmupSteps : inner.lrAt(step - warmupSteps)),
  };
}

export interface OneCycleOptions {
  pctStart?: number;
  divFactor?: number;
  finalDivFactor?: number;
  anneal?: 'cos' | 'linear';
  threePhase?: boolean;
}

/** torch.optim.lr_scheduler.OneCycleLR (learning rate only; momentum cycling is not part of this). */
export function oneCycleSchedule(maxLr: number, totalSteps: number, o: OneCycleOptions = {}): LrSchedule {
  const pct = o.pctStart ?? 0.3;
  check(pct > 0 && pct < 1, 'BAD_OPTION', `pctStart must be in (0, 1), got ${pct}`);
  const initial = maxLr / (o.divFactor ?? 25);
  const min = initial / (o.finalDivFactor ?? 1e4);
  const anneal =
    o.anneal === 'linear'
      ? (a: number, b: number, t: number) => (b - a) * t + a
      : (a: number, b: number, t: number) => b + ((a - b) / 2) * (Math.cos(Math.PI * t) + 1);
  const phases: [end: number, from: number, to: number][] = o.threePhase
    ? [
        [pct * totalSteps - 1, initial, maxLr],
        [2 * pct * totalSteps - 2, maxLr, initial],
        [totalSteps - 1, initial, min],
      ]
    : [
        [pct * totalSteps - 1, initial, maxLr],
        [totalSteps - 1, maxLr, min],
      ];
  return {
    lrAt(step) {
      let start = 0;
      for (let i = 0; i < phases.length; i++) {
        const [end, from, to] = phases[i]!;
        if (step <= end || i === phases.length - 1) return anneal(from, to, (step - start) / (end - start));
        start = end;
      }
      return min;
    },
  };
}

export function warmupStepsOf(spec: WarmupSpec, totalSteps: number): number {
  if (spec.warmupSteps !== undefined) return spec.warmupSteps;
  if (spec.warmupRatio !== undefined) return Math.ceil(spec.warmupRatio * totalSteps);
  return 0;
}

/** Builds a schedule from its spec; `lr` is the peak (one-cycle: max) learning rate. */
export function makeSchedule(spec: ScheduleSpec, lr: number, totalSteps: number): LrSchedule {
  check(totalSteps >= 1, 'BAD_OPTION', `schedule needs totalSteps ≥ 1, got ${totalSteps}`);
  const warmup = warmupStepsOf(spec, totalSteps);
  check(
    warmup >= 0 && warmup < totalSteps,
    'BAD_OPTION',
    `warmup ${warmup} must be < totalSteps ${totalSteps}`,
  );
  const rest = totalSteps - warmup;
  let inner: LrSchedule;
  switch (spec.kind) {
    case 'constant':
      inner = constantSchedule(lr);
      break;
    case 'step':
      inner = stepSchedule(lr, spec.stepSize, spec.gamma);
      break;
    case 'cosine':
      inner = cosineSchedule(lr, rest, spec.minLr);
      break;
    case 'linear':
      inner = linearSchedule(lr, rest, spec.endLr);
      break;
    case 'onecycle':
      check(warmup === 0, 'BAD_OPTION', 'one-cycle has its own warmup (pctStart); do not add warmupSteps');
      inner = oneCycleSchedule(lr, totalSteps, spec);
      break;
    default:
      check(false, 'BAD_OPTION', `unknown schedule '${(spec as { kind: string }).kind}'`);
  }
  return withWarmup(inner, warmup);
}
