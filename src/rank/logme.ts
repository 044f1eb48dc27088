/**
 * LogME (You et al., "LogME: Practical Assessment of Pre-trained Models for Transfer Learning", ICML 2021):
 * the log marginal likelihood (evidence) per example of Bayesian linear regression from the features to each
 * class's one-hot target, with the prior precision α and noise precision β set by MacKay's fixed-point
 * iteration; the score is its mean over classes. Higher is better.
 *
 * With F = U S Vᵀ (σᵢ = sᵢ², k non-zero) and xᵢ = uᵢᵀ y, for t = α / β:
 *   γ = Σ σᵢ / (σᵢ + t),  ‖m‖² = Σ σᵢ xᵢ² / (σᵢ + t)²,  ‖y − F m‖² = Σ xᵢ² t² / (σᵢ + t)² + (‖y‖² − Σ xᵢ²),
 *   α ← γ / (‖m‖² + ε),  β ← (N − γ) / (‖y − F m‖² + ε),  ε = 1e-5 as in the authors' code: it keeps α and
 *   β finite when a class carries no signal (m → 0) or the features interpolate it exactly (N ≤ D),
 *   evidence = D/2 ln α + N/2 ln β − ½ Σ_{i ≤ D} ln(α + β σᵢ) − β/2 ‖y − F m‖² − α/2 ‖m‖² − N/2 ln 2π,
 * divided by N (the D − k zero σᵢ add (D − k) ln α to the sum). The spectrum comes from the smaller Gram matrix
 * (F Fᵀ when N ≤ D, else Fᵀ F), eigendecomposed by ml-matrix.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { columnGram, rowGram, type Rows } from './gram.js';

/** Added to ‖m‖² and the residual in the updates (the authors' code does the same). */
const GUARD = 1e-5;

export interface LogmeOptions {
  /** Stop when t = α / β changes by less than this fraction. Default 1e-6. */
  tolerance?: number;
  /** Default 100. */
  maxIterations?: number;
}

/** The spectrum of F: σ (non-zero eigenvalues of the Gram matrix) and, per σ, a way to get uᵀy. */
interface Spectrum {
  sigma: Float64Array;
  /** xᵢ = uᵢᵀ y for every kept i. */
  project: (y: Float64Array) => Float64Array;
}

function symmetricEigen(g: Float64Array, size: number): { values: number[]; vectors: Matrix } {
  const rows = Array.from({ length: size }, (_, i) => Array.from(g.subarray(i * size, (i + 1) * size)));
  const e = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true });
  return { values: e.realEigenvalues, vectors: e.eigenvectorMatrix };
}

function spectrum(f: Rows, gram?: Float64Array): Spectrum {
  const n = f.rows;
  const d = f.dim;
  const byRows = n <= d;
  const size = byRows ? n : d;
  const { values, vectors } = symmetricEigen(byRows ? (gram ?? rowGram(f)) : columnGram(f), size);
  const top = Math.max(0, ...values);
  const kept = values.flatMap((v, i) => (v > top * 1e-10 && v > 0 ? [i] : []));
  const sigma = Float64Array.from(kept, (i) => values[i]!);
  if (byRows) {
    // Eigenvectors of F Fᵀ are the left singular vectors u directly.
    return {
      sigma,
      project: (y) =>
        Float64Array.from(kept, (i) => {
          let s = 0;
          for (let r = 0; r < n; r++) s += vectors.get(r, i) * y[r]!;
          return s;
        }),
    };
  }
  // Eigenvectors v of Fᵀ F: uᵢᵀ y = vᵢᵀ (Fᵀ y) / sᵢ.
  return {
    sigma,
    project: (y) => {
      const fty = new Float64Array(d);
      for (let r = 0; r < n; r++) {
        const w = y[r]!;
        if (w !== 0) for (let c = 0; c < d; c++) fty[c]! += f.data[r * d + c]! * w;
      }
      return Float64Array.from(kept, (i, j) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += vectors.get(c, i) * fty[c]!;
        return s / Math.sqrt(sigma[j]!);
      });
    },
  };
}

/** The evidence per example of one target vector y, given F's spectrum. */
export function evidenceFor(
  y: Float64Array,
  dim: number,
  sp: Spectrum,
  options: LogmeOptions = {},
): { evidence: number; alpha: number; beta: number } {
  const n = y.length;
  const { sigma } = sp;
  const x = sp.project(y);
  let yy = 0;
  for (const v of y) yy += v * v;
  let xx = 0;
  for (const v of x) xx += v * v;
  const residualOutside = Math.max(0, yy - xx);
  const tol = options.tolerance ?? 1e-6;
  let alpha = 1;
  let beta = 1;
  let m2 = 0;
  let res2 = 0;
  const step = (): void => {
    const t = alpha / beta;
    let gamma = 0;
    m2 = 0;
    res2 = residualOutside;
    sigma.forEach((s, i) => {
      const x2 = x[i]! * x[i]!;
      gamma += s / (s + t);
      m2 += (s * x2) / ((s + t) * (s + t));
      res2 += (x2 * t * t) / ((s + t) * (s + t));
    });
    alpha = gamma / (m2 + GUARD);
    beta = (n - gamma) / (res2 + GUARD);
  };
  for (let it = 0; it < (options.maxIterations ?? 100); it++) {
    const t = alpha / beta;
    step();
    if (Math.abs(alpha / beta - t) / t < tol) break;
  }
  // The evidence at the final α, β (m and the residual recomputed for them).
  const t = alpha / beta;
  m2 = 0;
  res2 = residualOutside;
  let logDet = (dim - sigma.length) * Math.log(alpha);
  sigma.forEach((s, i) => {
    const x2 = x[i]! * x[i]!;
    m2 += (s * x2) / ((s + t) * (s + t));
    res2 += (x2 * t * t) / ((s + t) * (s + t));
    logDet += Math.log(alpha + beta * s);
  });
  const evidence =
    (dim / 2) * Math.log(alpha) +
    (n / 2) * Math.log(beta) -
    logDet / 2 -
    (beta / 2) * res2 -
    (alpha / 2) * m2 -
    (n / 2) * Math.log(2 * Math.PI);
  return { evidence: evidence / n, alpha, beta };
}

/** LogME of features `f` for integer `labels`: the mean over classes of the one-hot targets' evidence. */
export function logme(
  f: Rows,
  labels: Int32Array,
  options: LogmeOptions & { gram?: Float64Array } = {},
): number {
  const sp = spectrum(f, options.gram);
  const classes = Math.max(...labels) + 1;
  let total = 0;
  for (let c = 0; c < classes; c++) {
    const y = Float64Array.from(labels, (l) => (l === c ? 1 : 0));
    total += evidenceFor(y, f.dim, sp, options).evidence;
  }
  return total / classes;
}
