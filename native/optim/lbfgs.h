// L-BFGS's two-loop recursion over float64 vectors, in the order and rounding of graft's TypeScript solver
// (src/train/lbfgs.ts: every sum runs from the first element to the last, one IEEE double operation at a time,
// no contraction), so both give bit-identical search directions.
#pragma once

#include <cstddef>

namespace graft {

// q (the gradient on entry) becomes H·q, H the inverse-Hessian estimate from the m curvature pairs (s[i], y[i]),
// oldest first, with sy[i] = s[i]·y[i], and the initial scaling gamma. alpha is scratch of m doubles.
void lbfgs_two_loop(double* q, size_t n, const double* const* s, const double* const* y, const double* sy,
                    size_t m, double gamma, double* alpha);

}  // namespace graft
