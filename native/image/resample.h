// Separable resampling of 8-bit RGBX images in fixed point (14-bit weights; horizontal pass first, each
// pass rounded to 8 bits), fused with the crop, the per-channel normalisation lookup and the output layout.
// No allocation outside the caller's scratch once it has grown.
#pragma once

#include <cstdint>
#include <vector>

namespace graft {

enum class Kernel { Nearest = 0, Linear = 1 };
enum class Layout { NHWC = 0, NCHW = 1 };

constexpr int kWeightBits = 14;

// Fixed-point filter for one axis: output positions [first, first + count) of a `dst`-long resample of
// a `src`-long axis. Linear is a triangle filter whose support widens with the reduction factor (an
// antialiased bilinear) with half-pixel centres; Nearest takes the source pixel under the centre.
// Every output reads the `taps` consecutive source positions from start[o], all inside [0, src): taps
// that fell outside the axis are folded onto the edge pixel they were clamped to. Weights sum exactly to
// 1 << kWeightBits per output.
struct Filter {
  int taps = 0;
  std::vector<int32_t> start;   // count first source positions
  std::vector<int16_t> weight;  // count * taps weights
};

Filter make_filter(int src, int dst, int first, int count, Kernel kernel);

// Where the pixels go and how they are normalised.
struct Target {
  int out_w = 0, out_h = 0;       // final (cropped) size
  int resize_w = 0, resize_h = 0; // size of the full resample the crop is cut from
  int crop_left = 0, crop_top = 0;
  Kernel kernel = Kernel::Linear;
  Layout layout = Layout::NHWC;
  const float* tables = nullptr;  // 3 * 256 floats: value of level p in channel c = tables[c*256+p]
  float* out = nullptr;           // out_h * out_w * 3 floats
};

// Buffers and filters reused across calls (one per thread).
struct ResampleScratch {
  std::vector<uint8_t> rows;     // horizontally resampled source rows
  std::vector<int32_t> pairs;    // horizontal weights two taps at a time
  Filter fx, fy;                 // the last geometry's filters ...
  int fx_key[5] = {}, fy_key[5] = {};  // ... and what they were made for (src, dst, first, count, kernel)
};

// Bytes a decoder must leave readable past the last pixel of an image handed to resample_into (the
// horizontal pass reads taps in pairs).
constexpr int kReadPadding = 16;

// Resamples `src` (h x w interleaved RGBX, 4 bytes per pixel, the 4th ignored; kReadPadding readable
// bytes after the last pixel) into the target.
void resample_into(const uint8_t* src, int w, int h, const Target& t, ResampleScratch& scratch);

}  // namespace graft
