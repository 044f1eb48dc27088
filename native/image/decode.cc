#include "decode.h"

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
  if (cinfo->num_components != 1 && cinfo->num_components != 3) {
    std::snprintf(err->message, sizeof err->message, "%d-component JPEG", cinfo->num_components);
    return false;
  }
  cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
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
  out->channels = cinfo->output_components;
  const size_t stride = static_cast<size_t>(out->width) * out->channels;
  out->data.resize(stride * out->height);
  uint8_t* data = out->data.data();
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
  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes, size)) return image.message;
  const bool colour = image.format & PNG_FORMAT_FLAG_COLOR;
  const bool alpha = image.format & PNG_FORMAT_FLAG_ALPHA;
  image.format = (colour ? PNG_FORMAT_FLAG_COLOR : 0) | (alpha ? PNG_FORMAT_FLAG_ALPHA : 0);
  const int channels = (colour ? 3 : 1) + (alpha ? 1 : 0);
  // Opaque images decode straight into `out`; others into a reused buffer, then flatten.
  thread_local std::vector<uint8_t> with_alpha;
  std::vector<uint8_t>& buffer = alpha ? with_alpha : out.data;
  buffer.resize(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, buffer.data(), 0, nullptr)) {
    std::string message = image.message;
    png_image_free(&image);
    return message;
  }
  const int w = static_cast<int>(image.width), h = static_cast<int>(image.height);
  if (!alpha) {
    out.width = w, out.height = h, out.channels = channels;
    return {};
  }
  flatten_alpha(buffer.data(), w, h, channels, background, out);
  return {};
}

void flatten_alpha(const uint8_t* src, int w, int h, int channels, uint8_t background, Pixels& out) {
  const size_t n = static_cast<size_t>(w) * h;
  const int colour = channels >= 3 ? 3 : 1;
  out.width = w, out.height = h, out.channels = colour;
  out.data.resize(n * colour);
  uint8_t* dst = out.data.data();
  if (channels == colour) {
    std::memcpy(dst, src, n * colour);
    return;
  }
  const unsigned bg = background;
  for (size_t i = 0; i < n; i++) {
    const uint8_t* p = src + i * channels;
    const unsigned a = p[colour];
    for (int c = 0; c < colour; c++)
      dst[i * colour + c] = static_cast<uint8_t>((p[c] * a + bg * (255 - a) + 127) / 255);
  }
}

}  // namespace graft
