/**
 * Small-sample honesty for the CLI's summaries: accuracies on fewer than SMALL_SAMPLE held-out examples carry
 * their Wilson 95% interval, and the cross-validated estimate on the training split is shown beside them.
 */
import { accuracyText, SMALL_SAMPLE } from '../eval/interval.js';
import { bold } from './output.js';

export { accuracyText } from '../eval/interval.js';

/** The cross-validated accuracy of the chosen candidate, on `n` training examples over `folds` folds. */
export interface CrossValidated {
  accuracy: number;
  folds: number;
  n: number;
}

/** "Held-out test accuracy (10 examples; 95% intervals)" as a bold heading line. */
export function heldOutHeading(split: string, n: number): string {
  if (n === 0) return `${bold('No held-out examples')}: too little data for an honest held-out figure`;
  const note =
    n < SMALL_SAMPLE ? `${n} examples; 95% Wilson intervals: few examples, wide intervals` : `${n} examples`;
  return `${bold(`Held-out ${split} accuracy`)} (${note})`;
}

/** A line giving the cross-validated estimate when the held-out split is small; '' otherwise. */
export function crossValidatedLine(heldOutN: number, cv: CrossValidated | undefined): string {
  if (heldOutN >= SMALL_SAMPLE || !cv) return '';
  return `cross-validated on the training split (${cv.folds} folds): ${accuracyText(cv.accuracy, cv.n)}\n`;
}

/** "Held-out test accuracy 91.0% (…) (macro-F1 90.2%, 300 examples)", or the no-held-out heading, as a line. */
export function heldOutAccuracyLine(
  split: string,
  r: { accuracy: number; macroF1: number; n: number },
): string {
  if (r.n === 0) return `${heldOutHeading(split, 0)}\n`;
  const f1 = `${(r.macroF1 * 100).toFixed(1)}%`;
  return `${bold(`Held-out ${split} accuracy`)} ${accuracyText(r.accuracy, r.n)} (macro-F1 ${f1}, ${r.n} examples)\n`;
}
