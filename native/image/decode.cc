#include "decode.h"

#include "png.h"
#include "resample.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>

#include <jpeglib.h>
#include <png.h>

namespace graft {

namespace {

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

void jpeg_message(j_common_ptr cinfo, int level) {
  // level -1 is a warning about corrupt data; treat it as fatal, like a strict decoder.
  if (level < 0) jpeg_fail(cinfo);
}

// Decodes with the state kept in `cinfo`; separate so no C++ object lives across setjmp.
bool jpeg_run(jpeg_decompress_struct* cinfo, JpegError* err, const uint8_t* bytes, size_t size,
              int min_w, int min_h, Pixels* out) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  if (static_cast<uint64_t>(cinfo->image_width) * cinfo->image_height > kMaxPixels) {
    std::snprintf(err->message, sizeof err->message, "image too large (%ux%u)", cinfo->image_width,
                  cinfo->image_height);
    return false;
  }
  if (cinfo->num_components != 1 && cinfo->num_components != 3) {
    std::snprintf(err->message, sizeof err->message, "%d-component JPEG", cinfo->num_components);
    return false;
  }
  cinfo->out_color_space = JCS_EXT_RGBX;
  cinfo->scale_num = 1;
  cinfo->scale_denom = 1;
  if (min_w > 0 && min_h > 0) {
    for (unsigned d = 8; d > 1; d /= 2) {
      const unsigned sw = (cinfo->image_width + d - 1) / d;
      const unsigned sh = (cinfo->image_height + d - 1) / d;
      if (sw >= static_cast<unsigned>(min_w) && sh >= static_cast<unsigned>(min_h)) {
        cinfo->scale_denom = d;
        break;
      }
    }
  }
  jpeg_start_decompress(cinfo);
  out->width = static_cast<int>(cinfo->output_width);
  out->height = static_cast<int>(cinfo->output_height);
  const size_t stride = static_cast<size_t>(out->width) * 4;
  uint8_t* data = reserve_rgbx(*out, out->width, out->height);
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = data + stride * cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

std::string decode_jpeg(const uint8_t* bytes, size_t size, int min_w, int min_h, Pixels& out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  err.message[0] = 0;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_message;
  const bool ok = jpeg_run(&cinfo, &err, bytes, size, min_w, min_h, &out);
  jpeg_destroy_decompress(&cinfo);
  if (!ok) return err.message[0] ? err.message : "cannot decode JPEG";
  return {};
}

std::string decode_png(const uint8_t* bytes, size_t size, uint8_t background, Pixels& out) {
  if (decode_png_fast(bytes, size, background, out)) return {};
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes, size)) return image.message;
  if (static_cast<uint64_t>(image.width) * image.height > kMaxPixels) {
    png_image_free(&image);
    return "image too large (" + std::to_string(image.width) + "x" + std::to_string(image.height) + ")";
  }
  const bool alpha = image.format & PNG_FORMAT_FLAG_ALPHA;
  image.format = PNG_FORMAT_RGBA;
  const int w = static_cast<int>(image.width), h = static_cast<int>(image.height);
  uint8_t* data = reserve_rgbx(out, w, h);
  if (!png_image_finish_read(&image, nullptr, data, 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    return message;
  }
  if (alpha) flatten_alpha(data, w, h, 4, background, out);
  return {};
}

uint8_t* reserve_rgbx(Pixels& px, int w, int h) {
  px.width = w, px.height = h;
  px.data.resize(static_cast<size_t>(w) * h * 4 + kReadPadding);
  return px.data.data();
}

void flatten_alpha(const uint8_t* src, int w, int h, int channels, uint8_t background, Pixels& out) {
  const size_t n = static_cast<size_t>(w) * h;
  uint8_t* dst = src == out.data.data() ? out.data.data() : reserve_rgbx(out, w, h);
  out.width = w, out.height = h;
  const unsigned bg = background;
  const auto over = [bg](unsigned v, unsigned a) { return static_cast<uint8_t>((v * a + bg * (255 - a) + 127) / 255); };
  for (size_t i = 0; i < n; i++) {
    const uint8_t* p = src + i * channels;
    uint8_t* q = dst + i * 4;
    switch (channels) {
      case 1: q[0] = q[1] = q[2] = p[0]; break;
      case 2: q[0] = q[1] = q[2] = over(p[0], p[1]); break;
      case 3: q[0] = p[0], q[1] = p[1], q[2] = p[2]; break;
      default:
        if (p[3] != 255) q[0] = over(p[0], p[3]), q[1] = over(p[1], p[3]), q[2] = over(p[2], p[3]);
        else if (q != p) q[0] = p[0], q[1] = p[1], q[2] = p[2];
    }
  }
}

}  // namespace graft
