/** The automatic search's decision table, as `graft train` prints it for every modality. */
import type { CandidateScore } from '../strategies/auto-select.js';
import { bold, table } from './output.js';

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** How a candidate's features read in the table. */
export function featureName(c: Pick<CandidateScore, 'model' | 'tensor'>): string {
  if (c.model === 'pixels') return 'raw pixels';
  if (c.model === 'tfidf') return 'tf-idf';
  return c.tensor === 'text_features' ? c.model : c.tensor;
}

/** The best scored candidates (the chosen one marked) and, by reason, what was skipped. */
export function printDecisionTable(
  candidates: readonly CandidateScore[],
  chosen: { model?: string; tensor?: string; head?: string },
  limit = 8,
): void {
  const scored = candidates.filter((c) => !c.skipped);
  const skipped = candidates.filter((c) => c.skipped);
  if (scored.length + skipped.length <= 1) return;
  const isChosen = (c: CandidateScore) =>
    c.model === chosen.model &&
    (chosen.tensor === undefined || c.tensor === chosen.tensor) &&
    c.head === chosen.head;
  const ranked = [...scored].sort((a, b) => b.cvAccuracy - a.cvAccuracy).slice(0, limit);
  const rows = ranked.map((c) => [
    `${isChosen(c) ? '→ ' : '  '}${featureName(c)}`,
    c.head,
    String(c.dim),
    pct(c.cvAccuracy),
  ]);
  process.stdout.write(
    `\n${bold('Chosen by cross-validation on the training split')} (best ${ranked.length} of ${scored.length})\n`,
  );
  process.stdout.write(`${table(['features', 'head', 'dims', 'cv accuracy'], rows)}\n`);
  const reasons = new Map<string, Set<string>>();
  for (const c of skipped) {
    const what = reasons.get(c.skipped!) ?? new Set<string>();
    what.add(`${featureName(c)} (${c.head})`);
    reasons.set(c.skipped!, what);
  }
  for (const [why, what] of reasons) process.stdout.write(`skipped, ${why}: ${[...what].join(', ')}\n`);
}
