#include "lbfgs.h"

namespace graft {
namespace {

// a·b in four interleaved partial sums, combined as (s0 + s1) + (s2 + s3) (src/train/lbfgs.ts: dot, bit for bit).
double dot(const double* a, const double* b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

}  // namespace

void lbfgs_two_loop(double* q, size_t n, const double* const* s, const double* const* y, const double* sy,
                    size_t m, double gamma, double* alpha) {
  for (size_t i = m; i-- > 0;) {
    const double a = dot(s[i], q, n) / sy[i];
    alpha[i] = a;
    for (size_t j = 0; j < n; j++) q[j] -= a * y[i][j];
  }
  for (size_t j = 0; j < n; j++) q[j] *= gamma;
  for (size_t i = 0; i < m; i++) {
    const double c = alpha[i] - dot(y[i], q, n) / sy[i];
    for (size_t j = 0; j < n; j++) q[j] += s[i][j] * c;
  }
}

}  // namespace graft
