#include "jpeg_decoder.h"

#if defined(AVSL_HAVE_LIBJPEG)
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first

#include <jpeglib.h>
#endif

namespace avsl::data {

#if defined(AVSL_HAVE_LIBJPEG)
namespace {

// libjpeg reports a fatal error by calling error_exit, which must not return: jump back to DecodeJpegToRgb.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
};

[[noreturn]] void JumpOnError(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<ErrorManager*>(cinfo->err)->jump, 1);
}

// Warnings (corrupt-data notes libjpeg recovers from) are not printed: OpenCV's path, which reports nothing either
// for a decodable file, is the behaviour users know.
void IgnoreMessage(j_common_ptr) {}

// Everything that must survive a longjmp lives outside the frame that calls setjmp (no destructor is skipped).
bool DecodeInto(jpeg_decompress_struct* cinfo, ErrorManager* errors, const std::vector<uint8_t>& bytes, RgbImage* out) {
  if (setjmp(errors->jump) != 0) return false;
  jpeg_mem_src(cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) return false;
  if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) return false;
  cinfo->out_color_space = JCS_RGB;
  if (!jpeg_start_decompress(cinfo) || cinfo->output_components != 3) return false;
  out->width = static_cast<int>(cinfo->output_width);
  out->height = static_cast<int>(cinfo->output_height);
  out->pixels.resize(static_cast<size_t>(out->width) * out->height * 3);
  const size_t stride = static_cast<size_t>(out->width) * 3;
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = out->pixels.data() + cinfo->output_scanline * stride;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) return false;
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

bool DecodeJpegToRgb(const std::vector<uint8_t>& bytes, RgbImage* out) {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = JumpOnError;
  errors.pub.output_message = IgnoreMessage;
  jpeg_create_decompress(&cinfo);
  const bool ok = DecodeInto(&cinfo, &errors, bytes, out);
  jpeg_destroy_decompress(&cinfo);
  return ok;
}

#else

bool DecodeJpegToRgb(const std::vector<uint8_t>&, RgbImage*) { return false; }

#endif

}  // namespace avsl::data
