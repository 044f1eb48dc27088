/**
 * `graft demo --fine-tune`: linear probe vs fine-tuning (last 3 MobileNetV2 blocks, LP-FT) vs the same
 * architecture trained from scratch, on real MNIST digits at 10 and 100 examples per class, same splits.
 * Sized for a few minutes on 2 cores: few epochs, cached prefix activations for probe and fine-tune; the scratch
 * baseline trains every layer from the input (the slow one), for `scratchEpochs`.
 */
import { loadMnist } from '../data/builtin-mnist.js';
import { sampleShots } from '../data/split.js';
import type { Strategy } from '../strategies/finetune/recipes.js';
import { fineTuneClassifier } from './finetune.js';
import type { FineTuneClassifierOptions } from './finetune-options.js';

export interface FineTuneDemoOptions {
  shots: number[];
  epochs: number;
  scratchEpochs: number;
  unfreeze: string;
  /** Which rows to run (default all three; the scratch baseline trains every layer and dominates the runtime). */
  strategies: Strategy[];
  threads?: number;
  seed: number;
  onProgress?: (message: string) => void;
}

export interface FineTuneDemoRow {
  shots: number;
  strategy: Strategy;
  accuracy: number;
  macroF1: number;
  trainSeconds: number;
  testSize: number;
}

export const FINETUNE_DEMO_DEFAULTS: FineTuneDemoOptions = {
  shots: [10, 100],
  epochs: 3,
  scratchEpochs: 1,
  unfreeze: 'last:3',
  strategies: ['linear-probe', 'lp-ft', 'scratch'],
  seed: 0,
};

export async function runFineTuneDemo(
  options: Partial<FineTuneDemoOptions> = {},
): Promise<FineTuneDemoRow[]> {
  const o = { ...FINETUNE_DEMO_DEFAULTS, ...options };
  const mnist = loadMnist();
  const rows: FineTuneDemoRow[] = [];
  for (const shots of o.shots) {
    // Per class: `shots` training digits (+ slack), ~8 for validation and ~30 held out for the test (~300).
    const perClass = shots + 50;
    const pool = sampleShots(mnist, perClass, o.seed);
    const runs: [Strategy, Partial<FineTuneClassifierOptions>][] = [
      // L-BFGS: epochs bound its iterations; it has no learning rate
      ['linear-probe', { epochs: o.epochs * 5 }],
      // LP-FT starts from the converged L-BFGS probe, then tunes the last blocks at lr/30 (Adam).
      ['lp-ft', { epochs: o.epochs, lr: 3e-4, ftLrDivisor: 30, unfreeze: o.unfreeze }],
      ['scratch', { epochs: o.scratchEpochs, lr: 3e-3 }],
    ];
    for (const [strategy, extra] of runs.filter(([s]) => o.strategies.includes(s))) {
      o.onProgress?.(`${shots} shots: ${strategy}`);
      const r = await fineTuneClassifier({
        data: pool,
        strategy,
        shots,
        valSplit: 8 / perClass,
        testSplit: 30 / perClass,
        seed: o.seed,
        threads: o.threads,
        batchSize: 32,
        ...extra,
      });
      rows.push({
        shots,
        strategy,
        accuracy: r.evaluation.accuracy,
        macroF1: r.evaluation.macroF1,
        trainSeconds: r.seconds.train,
        testSize: r.evaluation.n,
      });
    }
  }
  return rows;
}

/** The demo table as text. */
export function formatFineTuneDemo(rows: readonly FineTuneDemoRow[]): string {
  const lines = ['shots  strategy       accuracy  macro-F1  train s  test n'];
  for (const r of rows) {
    lines.push(
      `${String(r.shots).padEnd(6)} ${r.strategy.padEnd(14)} ${(r.accuracy * 100).toFixed(1).padStart(7)}%  ${r.macroF1
        .toFixed(3)
        .padStart(8)}  ${r.trainSeconds.toFixed(1).padStart(7)}  ${String(r.testSize).padStart(6)}`,
    );
  }
  return lines.join('\n');
}
