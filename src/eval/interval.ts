/**
 * Honest small-sample figures: the Wilson score interval for an accuracy measured on n examples (Wilson 1927;
 * it stays inside [0, 1] and keeps its coverage near 95% at small n and at 0% or 100%, where the normal
 * approximation collapses to a point).
 */

/** z for a two-sided 95% interval. */
export const Z95 = 1.959963984540054;

/** Below this many examples an accuracy is shown with its interval. */
export const SMALL_SAMPLE = 200;

export interface Interval {
  low: number;
  high: number;
}

/** The Wilson interval of `successes` out of `n` (n = 0: the whole of [0, 1]). */
export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

const percent = (v: number, digits: number) => `${(v * 100).toFixed(digits)}%`;

/**
 * An accuracy as text: "80.0%" on `SMALL_SAMPLE` examples or more, "80.0% (95% CI 49.0–94.3%, n=10)" below.
 */
export function accuracyText(accuracy: number, n: number): string {
  if (n === 0) return 'none: no example could be held out, too little data for an honest held-out figure';
  if (n >= SMALL_SAMPLE) return percent(accuracy, 1);
  const { low, high } = wilsonInterval(Math.round(accuracy * n), n);
  return `${percent(accuracy, 1)} (95% CI ${(low * 100).toFixed(1)}–${percent(high, 1)}, n=${n})`;
}
