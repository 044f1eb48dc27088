#include "png.h"

#include <libdeflate.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace graft {

namespace {

uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | p[3];
}

bool is(const uint8_t* type, const char* name) { return std::memcmp(type, name, 4) == 0; }

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_decompressor* decompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> d(libdeflate_alloc_decompressor());
  return d.get();
}

// What the chunks before the image data say.
struct Header {
  int width = 0, height = 0, depth = 0, type = 0;
  int channels = 0;                  // samples per pixel: 1 gray/palette, 2 gray+alpha, 3 RGB, 4 RGBA
  uint8_t palette[256][4] = {};      // RGBA
  int palette_size = 0;
  bool key = false;                  // tRNS for gray / RGB: the sample values that are transparent
  uint16_t key_value[3] = {};
};

bool valid_format(int type, int depth) {
  switch (type) {
    case 0: case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2: case 4: case 6: return depth == 8;
    default: return false;
  }
}

inline uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

// Undoes one scanline's filter in place; `prev` is the previous (unfiltered) scanline or zeros.
bool unfilter(int filter, uint8_t* row, const uint8_t* prev, size_t n, size_t bpp) {
  switch (filter) {
    case 0: return true;
    case 1:
      for (size_t i = bpp; i < n; i++) row[i] = static_cast<uint8_t>(row[i] + row[i - bpp]);
      return true;
    case 2:
      for (size_t i = 0; i < n; i++) row[i] = static_cast<uint8_t>(row[i] + prev[i]);
      return true;
    case 3:
      for (size_t i = 0; i < bpp; i++) row[i] = static_cast<uint8_t>(row[i] + (prev[i] >> 1));
      for (size_t i = bpp; i < n; i++) row[i] = static_cast<uint8_t>(row[i] + ((row[i - bpp] + prev[i]) >> 1));
      return true;
    case 4:
      for (size_t i = 0; i < bpp; i++) row[i] = static_cast<uint8_t>(row[i] + prev[i]);
      for (size_t i = bpp; i < n; i++) row[i] = static_cast<uint8_t>(row[i] + paeth(row[i - bpp], prev[i], prev[i - bpp]));
      return true;
    default: return false;
  }
}

inline uint8_t over(unsigned v, unsigned a, unsigned bg) {
  return static_cast<uint8_t>((v * a + bg * (255 - a) + 127) / 255);
}

// One unfiltered scanline to RGBX, transparency flattened onto `bg`.
void to_rgbx(const Header& h, const uint8_t* row, uint8_t bg, uint8_t* out) {
  const int w = h.width;
  if (h.depth < 8) {
    // Gray or palette indices packed most significant bits first.
    const int per_byte = 8 / h.depth, mask = (1 << h.depth) - 1, scale = 255 / mask;
    for (int x = 0; x < w; x++, out += 4) {
      const int v = (row[x / per_byte] >> ((per_byte - 1 - x % per_byte) * h.depth)) & mask;
      if (h.type == 3) {
        const uint8_t* p = h.palette[v];
        out[0] = over(p[0], p[3], bg), out[1] = over(p[1], p[3], bg), out[2] = over(p[2], p[3], bg);
      } else {
        out[0] = out[1] = out[2] = h.key && v == h.key_value[0] ? bg : static_cast<uint8_t>(v * scale);
      }
    }
    return;
  }
  switch (h.type) {
    case 0:
      for (int x = 0; x < w; x++, out += 4)
        out[0] = out[1] = out[2] = h.key && row[x] == h.key_value[0] ? bg : row[x];
      return;
    case 2:
      if (!h.key) {
        for (int x = 0; x < w; x++, out += 4, row += 3) out[0] = row[0], out[1] = row[1], out[2] = row[2];
        return;
      }
      for (int x = 0; x < w; x++, out += 4, row += 3) {
        const bool clear = row[0] == h.key_value[0] && row[1] == h.key_value[1] && row[2] == h.key_value[2];
        out[0] = clear ? bg : row[0], out[1] = clear ? bg : row[1], out[2] = clear ? bg : row[2];
      }
      return;
    case 3:
      for (int x = 0; x < w; x++, out += 4) {
        const uint8_t* p = h.palette[row[x]];
        out[0] = over(p[0], p[3], bg), out[1] = over(p[1], p[3], bg), out[2] = over(p[2], p[3], bg);
      }
      return;
    case 4:
      for (int x = 0; x < w; x++, out += 4, row += 2) out[0] = out[1] = out[2] = over(row[0], row[1], bg);
      return;
    default:
      for (int x = 0; x < w; x++, out += 4, row += 4) {
        const unsigned a = row[3];
        if (a == 255) out[0] = row[0], out[1] = row[1], out[2] = row[2];
        else out[0] = over(row[0], a, bg), out[1] = over(row[1], a, bg), out[2] = over(row[2], a, bg);
      }
  }
}

// Reads the chunks: the header, palette and transparency into `h`, the image data into `idat`. False
// for anything decode_png_fast leaves to libpng.
bool read_chunks(const uint8_t* bytes, size_t size, Header& h, std::vector<uint8_t>& idat) {
  static const uint8_t signature[8] = {137, 80, 78, 71, 13, 10, 26, 10};
  if (size < 8 || std::memcmp(bytes, signature, 8) != 0) return false;
  size_t pos = 8;
  bool header = false, data_ended = false, transparency = false;
  idat.clear();
  while (pos + 12 <= size) {
    const uint32_t len = be32(bytes + pos);
    if (len > size - pos - 12) return false;
    const uint8_t* type = bytes + pos + 4;
    const uint8_t* data = type + 4;
    // Every chunk's type must be four letters and its CRC must hold (libpng rejects the first and, for
    // some chunks, the second; the fast path need not tell which).
    for (int i = 0; i < 4; i++)
      if (!((type[i] | 0x20) >= 'a' && (type[i] | 0x20) <= 'z')) return false;
    if (libdeflate_crc32(0, type, len + 4) != be32(data + len)) return false;
    pos += 12 + static_cast<size_t>(len);
    if (!header) {
      if (!is(type, "IHDR") || len != 13) return false;
      const uint32_t w = be32(data), hh = be32(data + 4);
      h.depth = data[8], h.type = data[9];
      // Compression and filter method 0, no interlacing, at most kMaxPixels.
      if (w == 0 || hh == 0 || static_cast<uint64_t>(w) * hh > kMaxPixels || !valid_format(h.type, h.depth) ||
          data[10] != 0 || data[11] != 0 || data[12] != 0)
        return false;
      h.width = static_cast<int>(w), h.height = static_cast<int>(hh);
      h.channels = h.type == 2 ? 3 : h.type == 4 ? 2 : h.type == 6 ? 4 : 1;
      header = true;
      continue;
    }
    if (is(type, "IDAT")) {
      if (data_ended || (h.type == 3 && h.palette_size == 0)) return false;
      idat.insert(idat.end(), data, data + len);
      continue;
    }
    if (!idat.empty()) data_ended = true;
    if (is(type, "IEND")) return !idat.empty();
    if (is(type, "PLTE")) {
      if (!idat.empty() || h.palette_size || len == 0 || len % 3 || len / 3 > 256) return false;
      h.palette_size = static_cast<int>(len / 3);
      for (int i = 0; i < h.palette_size; i++)
        h.palette[i][0] = data[3 * i], h.palette[i][1] = data[3 * i + 1], h.palette[i][2] = data[3 * i + 2],
        h.palette[i][3] = 255;
    } else if (is(type, "tRNS")) {
      if (!idat.empty() || transparency) return false;
      transparency = true;
      if (h.type == 3) {
        if (len > static_cast<uint32_t>(h.palette_size)) return false;
        for (uint32_t i = 0; i < len; i++) h.palette[i][3] = data[i];
      } else if ((h.type == 0 && len == 2) || (h.type == 2 && len == 6)) {
        h.key = true;
        for (uint32_t i = 0; i < len / 2; i++) h.key_value[i] = static_cast<uint16_t>((data[2 * i] << 8) | data[2 * i + 1]);
      } else {
        return false;
      }
    } else if (!(type[0] & 0x20)) {
      return false;  // an unknown critical chunk
    }
  }
  return false;  // no IEND
}

}  // namespace

namespace {

bool decode_png_fast_with(const uint8_t* bytes, size_t size, uint8_t background, Pixels& out,
                          std::vector<uint8_t>& idat, std::vector<uint8_t>& raw, std::vector<uint8_t>& zeros) {
  Header h;
  if (!read_chunks(bytes, size, h, idat)) return false;
  const size_t bits = static_cast<size_t>(h.channels) * h.depth;
  const size_t row_bytes = (static_cast<size_t>(h.width) * bits + 7) / 8;
  const size_t bpp = bits >= 8 ? bits / 8 : 1;
  const size_t expected = (row_bytes + 1) * static_cast<size_t>(h.height);
  raw.resize(expected);
  size_t actual = 0;
  libdeflate_decompressor* d = decompressor();
  if (!d || libdeflate_zlib_decompress(d, idat.data(), idat.size(), raw.data(), expected, &actual) !=
                LIBDEFLATE_SUCCESS ||
      actual != expected)
    return false;
  zeros.assign(row_bytes, 0);
  uint8_t* pixels = reserve_rgbx(out, h.width, h.height);
  const uint8_t* prev = zeros.data();
  for (int y = 0; y < h.height; y++) {
    uint8_t* line = raw.data() + static_cast<size_t>(y) * (row_bytes + 1);
    if (!unfilter(line[0], line + 1, prev, row_bytes, bpp)) return false;
    to_rgbx(h, line + 1, background, pixels + static_cast<size_t>(y) * h.width * 4);
    prev = line + 1;
  }
  return true;
}

}  // namespace

bool decode_png_fast(const uint8_t* bytes, size_t size, uint8_t background, Pixels& out) {
  thread_local std::vector<uint8_t> idat, raw, zeros;
  const bool ok = decode_png_fast_with(bytes, size, background, out, idat, raw, zeros);
  release_if_large(idat);
  release_if_large(raw);
  return ok;
}

}  // namespace graft
