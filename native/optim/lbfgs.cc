#include "lbfgs.h"

namespace graft {
namespace {

double dot(const double* a, const double* b, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
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
