// JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGBX (gray replicated, alpha flattened onto a
// gray background level, the 4th byte unspecified), with resample_into's read padding after the last
// pixel. Errors are returned as messages, never thrown or exited on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace graft {

struct Pixels {
  std::vector<uint8_t> data;
  int width = 0, height = 0;
};

// Per-thread scratch is kept between images up to this size (a 4-megapixel RGBX image); a larger image's buffers
// are freed once it is done, so one 36-megapixel upload does not hold ~250 MB per pool thread for the life of a
// server.
constexpr size_t kKeepScratchBytes = size_t{16} << 20;

template <typename T>
void release_if_large(std::vector<T>& v) {
  if (v.capacity() * sizeof(T) > kKeepScratchBytes) std::vector<T>().swap(v);
}

// Largest image decoded, in pixels (sharp's default limit, 0x3FFF squared): a header can claim far more than
// its file holds, and the decoded buffer is allocated from the header.
constexpr uint64_t kMaxPixels = 0x3FFFull * 0x3FFFull;

// Sizes `px` for w x h RGBX pixels plus the read padding.
uint8_t* reserve_rgbx(Pixels& px, int w, int h);

// Decodes a JPEG. With `min_w` / `min_h` > 0 the decoder's DCT scaling (1/2, 1/4, 1/8) is used as far
// as the result stays at least that large. Any libjpeg warning (corrupt or truncated data) is an error.
std::string decode_jpeg(const uint8_t* bytes, size_t size, int min_w, int min_h, Pixels& out);

// Decodes a PNG (any bit depth, palette, gray, alpha; sRGB 8-bit out) and flattens alpha.
std::string decode_png(const uint8_t* bytes, size_t size, uint8_t background, Pixels& out);

// Converts interleaved 8-bit pixels (1 = gray, 2 = gray+alpha, 3 = RGB, 4 = RGBA) to RGBX in `out`,
// alpha flattened onto `background`. `src` may be out's own data when channels is 4.
void flatten_alpha(const uint8_t* src, int w, int h, int channels, uint8_t background, Pixels& out);

}  // namespace graft
