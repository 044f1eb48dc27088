// The full-batch objective of a linear softmax classifier (multinomial logistic regression): mean cross-entropy
// of softmax(x · Wᵀ + b) against (optionally smoothed) labels, and its gradients, in one pass over the rows.
// A solver such as L-BFGS evaluates it dozens of times on the same rows; one pass reads each row once for the
// logits and the gradient together, where two Gemms read the whole matrix twice.
#pragma once

#include <cstddef>
#include <cstdint>

namespace graft {

struct LinearSoftmaxProblem {
  const float* x;         // [n, d], row-major
  const int32_t* labels;  // [n], each in [0, k)
  size_t n;
  size_t d;
  size_t k;
  const float* weight;  // [k, d] (nn.Linear's layout)
  const float* bias;    // [k]
  double smoothing;     // the target is (1 - smoothing) · onehot + smoothing / k
  // The weight transposed to [d, padded_classes(k)], the padding zero (transpose_weight), or null. Where the CPU
  // has AVX-512, the rows are evaluated from it: one vector holds a row's logits for 16 classes.
  const float* weight_t = nullptr;
};

// Classes rounded up to whole vectors of 16: the width of LinearSoftmaxProblem::weight_t.
size_t padded_classes(size_t k);

// Whether rows are best evaluated from the transposed weight: the CPU has AVX-512 and classes fill at least 90% of
// the padded vectors' lanes (16 or 32 classes do; 10 classes of 16, or 2, run faster with columns in the lanes).
bool prefers_transposed_weight(size_t k);

// out [d, padded_classes(k)] = weight [k, d] transposed, the padding zero.
void transpose_weight(const float* weight, size_t k, size_t d, float* out);

// Rows [begin, end): adds Σ_rows cross-entropy to *loss and Σ_rows (softmax − target) ⊗ [x, 1] to grad_weight
// [k, d] and grad_bias [k]. Logits and softmax are per row in double; products and sums of the gradient in
// float32. Returns false (adding nothing more) at the first label outside [0, k).
bool softmax_regression_rows(const LinearSoftmaxProblem& p, size_t begin, size_t end, float* grad_weight,
                             float* grad_bias, double* loss);

// For columns [from, to) of x [n, d]: sum[j] and squares[j] of the offsets x[i, j] − x[0, j], added over the rows
// in order in float64 (graft's TypeScript fitStandardizer does the same operations in the same order).
void shifted_column_sums(const float* x, size_t n, size_t d, size_t from, size_t to, double* sum, double* squares);

// out[i, j] = (x[i, j] − mean[j]) / std[j] for rows [begin, end), as one float32 subtraction and one float32
// division: the values ONNX Runtime's Sub and Div give inside an exported head, bit for bit.
void standardize_rows(const float* x, const float* mean, const float* std, float* out, size_t d, size_t begin,
                      size_t end);

}  // namespace graft
