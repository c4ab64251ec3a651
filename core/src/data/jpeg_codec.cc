#include "jpeg_codec.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <cstdlib>

#include <jpeglib.h>

#include "absl/strings/str_cat.h"

namespace avsl::data {
namespace {

// libjpeg reports a fatal error by calling error_exit, which must not return: the message is kept and the call
// jumps back to the setjmp of the frame in progress.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = "";
};

[[noreturn]] void JumpOnError(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (corrupt-data notes libjpeg recovers from) are not printed, as OpenCV printed none for a decodable file.
void IgnoreMessage(j_common_ptr) {}

void UseErrorManager(jpeg_common_struct* cinfo, ErrorManager* errors) {
  cinfo->err = jpeg_std_error(&errors->pub);
  errors->pub.error_exit = JumpOnError;
  errors->pub.output_message = IgnoreMessage;
}

// OpenCV's icvCvt_CMYK2BGR_8u_C4C3R: libjpeg hands Adobe's inverted CMYK through unchanged.
void CmykRowToRgb(const uint8_t* cmyk, int width, uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int k = cmyk[3];
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(k - ((255 - cmyk[c]) * k >> 8));
  }
}

// The setjmp frames below hold no object with a destructor: a longjmp out of libjpeg skips nothing.
bool DecodeInto(jpeg_decompress_struct* cinfo, ErrorManager* errors, const std::vector<uint8_t>& bytes, RgbImage* out,
                std::vector<uint8_t>* cmyk_row) {
  if (setjmp(errors->jump) != 0) return false;
  jpeg_mem_src(cinfo, bytes.data(), static_cast<unsigned long>(bytes.size()));
  if (jpeg_read_header(cinfo, TRUE) != JPEG_HEADER_OK) {
    std::snprintf(errors->message, sizeof(errors->message), "no JPEG image in the file");
    return false;
  }
  const bool four_components = cinfo->num_components == 4;
  cinfo->out_color_space = four_components ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(cinfo);
  out->width = static_cast<int>(cinfo->output_width);
  out->height = static_cast<int>(cinfo->output_height);
  out->pixels.resize(static_cast<size_t>(out->width) * out->height * 3);
  const size_t stride = static_cast<size_t>(out->width) * 3;
  if (four_components) cmyk_row->resize(static_cast<size_t>(out->width) * 4);
  while (cinfo->output_scanline < cinfo->output_height) {
    uint8_t* rgb = out->pixels.data() + cinfo->output_scanline * stride;
    JSAMPROW row = four_components ? cmyk_row->data() : rgb;
    if (jpeg_read_scanlines(cinfo, &row, 1) != 1) {
      std::snprintf(errors->message, sizeof(errors->message), "no scanline %u", cinfo->output_scanline);
      return false;
    }
    if (four_components) CmykRowToRgb(cmyk_row->data(), out->width, rgb);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

bool EncodeFrom(jpeg_compress_struct* cinfo, ErrorManager* errors, const PixelRows& rows, int quality,
                unsigned char** buffer, unsigned long* size) {
  if (setjmp(errors->jump) != 0) return false;
  jpeg_mem_dest(cinfo, buffer, size);
  cinfo->image_width = static_cast<JDIMENSION>(rows.width);
  cinfo->image_height = static_cast<JDIMENSION>(rows.height);
  cinfo->input_components = 3;
  cinfo->in_color_space = rows.bgr ? JCS_EXT_BGR : JCS_RGB;  // libjpeg-turbo's extension, as OpenCV uses it
  jpeg_set_defaults(cinfo);
  jpeg_set_quality(cinfo, quality, TRUE);
  jpeg_start_compress(cinfo, TRUE);
  while (cinfo->next_scanline < cinfo->image_height) {
    JSAMPROW row = const_cast<uint8_t*>(rows.data) + cinfo->next_scanline * rows.stride;
    jpeg_write_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_compress(cinfo);
  return true;
}

}  // namespace

absl::StatusOr<RgbImage> DecodeJpeg(const std::vector<uint8_t>& bytes, const std::string& name) {
  jpeg_decompress_struct cinfo;
  ErrorManager errors;
  UseErrorManager(reinterpret_cast<jpeg_common_struct*>(&cinfo), &errors);
  jpeg_create_decompress(&cinfo);
  RgbImage out;
  std::vector<uint8_t> cmyk_row;
  const bool ok = DecodeInto(&cinfo, &errors, bytes, &out, &cmyk_row);
  jpeg_destroy_decompress(&cinfo);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat("image ", name, ": cannot decode JPEG: ", errors.message));
  return out;
}

absl::StatusOr<std::vector<uint8_t>> EncodeJpegBytes(const PixelRows& rows, int quality, const std::string& name) {
  if (absl::Status s = CheckPixelRows(rows, "jpeg " + name); !s.ok()) return s;
  jpeg_compress_struct cinfo;
  ErrorManager errors;
  UseErrorManager(reinterpret_cast<jpeg_common_struct*>(&cinfo), &errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  const bool ok = EncodeFrom(&cinfo, &errors, rows, quality, &buffer, &size);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> bytes;
  if (ok) bytes.assign(buffer, buffer + size);
  std::free(buffer);
  if (!ok) return absl::InternalError(absl::StrCat("jpeg ", name, ": libjpeg could not encode: ", errors.message));
  return bytes;
}

}  // namespace avsl::data
