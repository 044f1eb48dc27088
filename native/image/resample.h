// Separable resampling of 8-bit images with precomputed filter taps, fused with the crop, the
// per-channel normalisation lookup and the output layout. No allocation outside the caller's scratch.
#pragma once

#include <cstdint>
#include <vector>

namespace graft {

enum class Kernel { Nearest = 0, Linear = 1 };
enum class Layout { NHWC = 0, NCHW = 1 };

// Filter taps for one axis: output positions [first, first + count) of a `dst`-long resample of a
// `src`-long axis. Linear is a triangle filter whose support widens with the reduction factor (an
// antialiased bilinear), with half-pixel centres; Nearest takes the source pixel under the centre.
struct Taps {
  int width = 0;                 // taps per output position
  std::vector<int32_t> first;    // count unclamped first source positions (taps are first + 0..width-1)
  std::vector<int32_t> index;    // count * width source indices (clamped)
  std::vector<float> weight;     // count * width weights, summing to 1 per output
};

Taps make_taps(int src, int dst, int first, int count, Kernel kernel);

// Where the pixels go and how they are normalised.
struct Target {
  int out_w = 0, out_h = 0;       // final (cropped) size
  int resize_w = 0, resize_h = 0; // size of the full resample the crop is cut from
  int crop_left = 0, crop_top = 0;
  Kernel kernel = Kernel::Linear;
  Layout layout = Layout::NHWC;
  const float* tables = nullptr;  // 3 * 256 floats: value of pixel p in channel c = tables[c*256+p]
  float* out = nullptr;           // out_h * out_w * 3 floats
};

// Resamples `src` (h x w, `channels` = 1 (gray, replicated) or 3 (RGB) interleaved 8-bit) into the
// target. Each output pixel is rounded to 8 bits before the table lookup, as a decoder would.
void resample_into(const uint8_t* src, int w, int h, int channels, const Target& t,
                   std::vector<float>& scratch);

}  // namespace graft
