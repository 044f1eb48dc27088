// JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit gray or RGB, alpha flattened onto a gray
// background level. Errors are returned as messages, never thrown or exited on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace graft {

struct Pixels {
  std::vector<uint8_t> data;
  int width = 0, height = 0;
  int channels = 0;  // 1 (gray) or 3 (RGB)
};

// Decodes a JPEG. With `min_w` / `min_h` > 0 the decoder's DCT scaling (1/2, 1/4, 1/8) is used as far
// as the result stays at least that large. Any libjpeg warning (corrupt or truncated data) is an error.
std::string decode_jpeg(const uint8_t* bytes, size_t size, int min_w, int min_h, Pixels& out);

// Decodes a PNG (any bit depth, palette, gray, alpha; sRGB 8-bit out) and flattens alpha.
std::string decode_png(const uint8_t* bytes, size_t size, uint8_t background, Pixels& out);

// Flattens interleaved pixels with alpha (2 = gray+alpha, 4 = RGBA) onto `background`, in place into
// `out` (1 or 3 channels); 1- and 3-channel input is copied.
void flatten_alpha(const uint8_t* src, int w, int h, int channels, uint8_t background, Pixels& out);

}  // namespace graft
