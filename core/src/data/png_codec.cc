#include "png_codec.h"

#include <png.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace avsl::data {
namespace {

// libpng reports a fatal error through the error callback, which must not return: it records the message and
// jumps back to the png_jmpbuf of the call in progress. Everything that must outlive the jump lives in a Session.
struct Session {
  char error[256] = "";
  const std::vector<uint8_t>* input = nullptr;
  size_t offset = 0;
  std::vector<uint8_t>* output = nullptr;
};

[[noreturn]] void OnError(png_structp png, png_const_charp message) {
  auto* s = static_cast<Session*>(png_get_error_ptr(png));
  std::snprintf(s->error, sizeof(s->error), "%s", message);
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}  // recoverable (a bad ancillary chunk): decoded as OpenCV does

void ReadBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* s = static_cast<Session*>(png_get_io_ptr(png));
  if (s->input->size() - s->offset < length) png_error(png, "file ends early (truncated PNG)");
  std::memcpy(data, s->input->data() + s->offset, length);
  s->offset += length;
}

// libpng's C frames must not be unwound by an exception: a failed append becomes a libpng error.
void WriteBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* s = static_cast<Session*>(png_get_io_ptr(png));
  bool appended = false;
  try {
    s->output->insert(s->output->end(), data, data + length);
    appended = true;
  } catch (const std::bad_alloc&) {
  }
  if (!appended) png_error(png, "out of memory for the encoded image");
}

void Flush(png_structp) {}

// The setjmp frame holds no object with a destructor: a longjmp out of libpng skips nothing.
bool ReadInto(png_structp png, png_infop info, RgbImage* out, std::vector<png_bytep>& rows) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, nullptr, nullptr, nullptr);
  // OpenCV's PngDecoder::readData for IMREAD_COLOR, call for call.
  if (bit_depth > 8) png_set_strip_16(png);
  png_set_strip_alpha(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0 && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if ((color_type & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != static_cast<size_t>(width) * 3) png_error(png, "unexpected row layout");
  out->width = static_cast<int>(width);
  out->height = static_cast<int>(height);
  out->pixels.resize(static_cast<size_t>(width) * height * 3);
  rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) rows[y] = out->pixels.data() + static_cast<size_t>(y) * width * 3;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  return true;
}

bool WriteFrom(png_structp png, png_infop info, const PixelRows& pixels, int level, std::vector<png_bytep>& rows) {
  if (setjmp(png_jmpbuf(png)) != 0) return false;
  // OpenCV's PngEncoder::write with IMWRITE_PNG_COMPRESSION: default filters, memory level and strategy, the level.
  png_set_compression_level(png, level);
  png_set_compression_strategy(png, Z_DEFAULT_STRATEGY);
  png_set_IHDR(png, info, static_cast<png_uint_32>(pixels.width), static_cast<png_uint_32>(pixels.height), 8,
               PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (pixels.bgr) png_set_bgr(png);
  png_write_image(png, rows.data());
  png_write_end(png, info);
  return true;
}

}  // namespace

absl::StatusOr<RgbImage> DecodePng(const std::vector<uint8_t>& bytes, const std::string& name) {
  Session session;
  session.input = &bytes;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &session, OnError, OnWarning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return absl::ResourceExhaustedError(absl::StrCat("image ", name, ": libpng could not start"));
  }
  png_set_read_fn(png, &session, ReadBytes);
  RgbImage out;
  std::vector<png_bytep> rows;
  const bool ok = ReadInto(png, info, &out, rows);
  png_destroy_read_struct(&png, &info, nullptr);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("image ", name, ": cannot decode PNG: ", session.error));
  return out;
}

absl::StatusOr<std::vector<uint8_t>> EncodePng(const PixelRows& pixels, int level, const std::string& name) {
  if (absl::Status s = CheckPixelRows(pixels, "png " + name); !s.ok()) return s;
  std::vector<uint8_t> bytes;
  Session session;
  session.output = &bytes;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &session, OnError, OnWarning);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (info == nullptr) {
    png_destroy_write_struct(&png, nullptr);
    return absl::ResourceExhaustedError(absl::StrCat("png ", name, ": libpng could not start"));
  }
  png_set_write_fn(png, &session, WriteBytes, Flush);
  std::vector<png_bytep> rows(static_cast<size_t>(pixels.height));
  for (int y = 0; y < pixels.height; ++y) rows[y] = const_cast<png_bytep>(pixels.data) + y * pixels.stride;
  const bool ok = WriteFrom(png, info, pixels, level, rows);
  png_destroy_write_struct(&png, &info);
  if (!ok)
    return absl::InternalError(absl::StrCat("png ", name, ": libpng could not encode the image: ", session.error));
  return bytes;
}

}  // namespace avsl::data
