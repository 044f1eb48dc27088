// PNG decoding with libdeflate for the zlib stream (~3x faster than zlib here), for the common case:
// non-interlaced images of up to 8 bits per sample, any colour type, palette and tRNS transparency.
#pragma once

#include <cstddef>
#include <cstdint>

#include "decode.h"

namespace graft {

// Decodes into RGBX with alpha flattened onto `background`. Returns false, without a message, for
// anything it does not handle or finds damaged (interlacing, 16-bit samples, a bad checksum, missing or
// extra data, an unknown critical chunk): the caller then decodes with libpng, which handles the rarer
// cases and reports errors as libpng always has.
bool decode_png_fast(const uint8_t* bytes, size_t size, uint8_t background, Pixels& out);

}  // namespace graft
