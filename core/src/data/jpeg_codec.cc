#include "jpeg_codec.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <new>

#include <jpeglib.h>
// jerror.h after jpeglib.h: the warning codes (JWRN_JPEG_EOF).
#include <jerror.h>

#include "absl/strings/str_cat.h"

namespace avsl::data {
namespace {

// libjpeg reports a fatal error by calling error_exit, which must not return: the message is kept and the call
// jumps back to the setjmp of the frame in progress.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = "";
  bool ended_early = false;  ///< libjpeg's JWRN_JPEG_EOF: it padded the missing data with grey
};

[[noreturn]] void JumpOnError(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

// Warnings (corrupt-data notes libjpeg recovers from) are not printed, as OpenCV printed none for a decodable file.
// One is kept: data that ends before the image does (a cut file whose tail still holds an FF D9, such as an EXIF
// thumbnail's, passes the end-marker check), which PIL refuses and avsl reports as DataLoss.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF)
    reinterpret_cast<ErrorManager*>(cinfo->err)->ended_early = true;
  if (level < 0) ++cinfo->err->num_warnings;
}

void UseErrorManager(jpeg_common_struct* cinfo, ErrorManager* errors) {
  cinfo->err = jpeg_std_error(&errors->pub);
  errors->pub.error_exit = JumpOnError;
  errors->pub.emit_message = OnMessage;
}

// The encoder's output, appended to a vector the caller owns (jpeg_mem_dest's buffer, once grown, is only handed
// back by jpeg_finish_compress: after an error it could be neither freed nor used).
struct VectorDestination {
  jpeg_destination_mgr pub;
  std::vector<uint8_t>* out = nullptr;
  bool out_of_memory = false;
  uint8_t buffer[16384];
};

void InitDestination(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  d->pub.next_output_byte = d->buffer;
  d->pub.free_in_buffer = sizeof(d->buffer);
}

// libjpeg's C frames must not be unwound by an exception: a failed append becomes libjpeg's own out-of-memory error.
void Append(j_compress_ptr cinfo, size_t count) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  try {
    d->out->insert(d->out->end(), d->buffer, d->buffer + count);
  } catch (const std::bad_alloc&) {
    d->out_of_memory = true;
  }
  if (d->out_of_memory) ERREXIT(cinfo, JERR_OUT_OF_MEMORY);
}

boolean EmptyBuffer(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  Append(cinfo, sizeof(d->buffer));
  InitDestination(cinfo);
  return TRUE;
}

void TermDestination(j_compress_ptr cinfo) {
  auto* d = reinterpret_cast<VectorDestination*>(cinfo->dest);
  Append(cinfo, sizeof(d->buffer) - d->pub.free_in_buffer);
}

// OpenCV's icvCvt_CMYK2BGR_8u_C4C3R: libjpeg hands Adobe's inverted CMYK through unchanged.
void CmykRowToRgb(const uint8_t* cmyk, int width, uint8_t* rgb) {
  for (int x = 0; x < width; ++x, cmyk += 4, rgb += 3) {
    const int k = cmyk[3];
    for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>(k - ((255 - cmyk[c]) * k >> 8));
  }
}

// The setjmp frames below hold no object with a destructor: a longjmp out of libjpeg skips nothing. The structs are
// created inside them, so an error there too has somewhere to jump (the caller's zeroed struct is then destroyed
// harmlessly).
bool DecodeInto(jpeg_decompress_struct* cinfo, ErrorManager* errors, const std::vector<uint8_t>& bytes, RgbImage* out,
                std::vector<uint8_t>* cmyk_row) {
  if (setjmp(errors->jump) != 0) return false;
  jpeg_create_decompress(cinfo);
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
  if (errors->ended_early) {
    std::snprintf(errors->message, sizeof(errors->message), "the data ends before the image does (truncated file)");
    return false;
  }
  return true;
}

bool EncodeFrom(jpeg_compress_struct* cinfo, ErrorManager* errors, const PixelRows& rows, int quality,
                VectorDestination* destination) {
  if (setjmp(errors->jump) != 0) return false;
  jpeg_create_compress(cinfo);
  destination->pub.init_destination = InitDestination;
  destination->pub.empty_output_buffer = EmptyBuffer;
  destination->pub.term_destination = TermDestination;
  cinfo->dest = &destination->pub;
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
  jpeg_decompress_struct cinfo{};
  ErrorManager errors;
  UseErrorManager(reinterpret_cast<jpeg_common_struct*>(&cinfo), &errors);
  RgbImage out;
  std::vector<uint8_t> cmyk_row;
  const bool ok = DecodeInto(&cinfo, &errors, bytes, &out, &cmyk_row);
  jpeg_destroy_decompress(&cinfo);
  if (ok) return out;
  const std::string why = absl::StrCat("image ", name, ": cannot decode JPEG: ", errors.message);
  return errors.ended_early ? absl::DataLossError(why) : absl::InvalidArgumentError(why);
}

absl::StatusOr<std::vector<uint8_t>> EncodeJpegBytes(const PixelRows& rows, int quality, const std::string& name) {
  if (absl::Status s = CheckPixelRows(rows, "jpeg " + name); !s.ok()) return s;
  jpeg_compress_struct cinfo{};
  ErrorManager errors;
  UseErrorManager(reinterpret_cast<jpeg_common_struct*>(&cinfo), &errors);
  std::vector<uint8_t> bytes;
  VectorDestination destination;
  destination.out = &bytes;
  const bool ok = EncodeFrom(&cinfo, &errors, rows, quality, &destination);
  jpeg_destroy_compress(&cinfo);
  if (!ok) return absl::InternalError(absl::StrCat("jpeg ", name, ": libjpeg could not encode: ", errors.message));
  return bytes;
}

}  // namespace avsl::data
