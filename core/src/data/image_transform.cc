#include "avsl/data/image_transform.h"

#include <algorithm>
#include <array>
#include <iterator>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "env_limit.h"
#include "io/read_whole_file.h"
#include "jpeg_codec.h"
#include "png_codec.h"

namespace avsl::data {
namespace {

// A baseline/progressive JPEG ends with FF D9. Inside entropy-coded data 0xFF is always stuffed (FF 00), so
// the marker cannot appear by accident; the tail window allows the trailing padding some cameras add.
bool JpegHasEndMarker(const std::vector<uint8_t>& b) {
  const size_t from = b.size() > 4096 ? b.size() - 4096 : 2;
  for (size_t i = b.size() - 1; i > from; --i) {
    if (b[i - 1] == 0xFF && b[i] == 0xD9) return true;
  }
  return false;
}

// The signatures exactly as OpenCV's JPEG and PNG decoders check them (SOI plus the next marker's FF; PNG's eight
// bytes), on bytes of at least 8 (DecodeImageBytes checks). A looser check let through files that cv::imdecode then
// offered to every other decoder in turn: CI's fuzz smoke reached GDCM's DICOM reader, which aborts on an assert, with
// FF D8 01 ... "DICM" at byte 128 (tests/fuzz/regressions/image/image-crash-6a34...).
bool IsJpeg(const std::vector<uint8_t>& b) { return b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }
bool IsPng(const std::vector<uint8_t>& b) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  return std::equal(std::begin(kSignature), std::end(kSignature), b.begin());
}

// The frame size a JPEG (its first SOFn segment) or PNG (IHDR) header declares, {0, 0} when the header does not say:
// the decoders allocate width x height x 3 before decoding a single row, so a corrupt header is refused first. The JPEG
// segments are walked as libjpeg's next_marker() walks them: bytes other than FF before a marker are skipped (libjpeg
// warns "extraneous bytes" and goes on), so are FF fill bytes, and FF 00 is no marker. A stricter walk that stopped at
// the first stray byte let the fuzzer through to a 55551 x 18960 frame.
std::array<uint64_t, 2> DeclaredSize(const std::vector<uint8_t>& b) {
  auto u16 = [&](size_t i) { return static_cast<uint64_t>(b[i]) << 8 | b[i + 1]; };
  auto u32 = [&](size_t i) { return u16(i) << 16 | u16(i + 2); };
  if (IsPng(b)) {
    if (b.size() < 24) return {0, 0};
    return {u32(16), u32(20)};  // IHDR width and height
  }
  if (!IsJpeg(b)) return {0, 0};
  size_t i = 2;
  while (true) {
    while (i < b.size() && b[i] != 0xFF) ++i;
    while (i < b.size() && b[i] == 0xFF) ++i;
    if (i >= b.size()) return {0, 0};
    const uint8_t marker = b[i];  // the byte after the FFs; the segment's length follows it
    const size_t body = i + 1;
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): length, precision, then height and width.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      if (body + 7 > b.size()) return {0, 0};
      return {u16(body + 5), u16(body + 3)};
    }
    if (marker == 0xD9 || marker == 0xDA) return {0, 0};  // the image or its scan starts without a frame header
    if (marker == 0x00 || marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
      i = body;  // no length: a stuffed byte, TEM, SOI, RSTn
      continue;
    }
    if (body + 2 > b.size()) return {0, 0};
    i = body + u16(body);
  }
}

cv::Mat AsMat(const RgbImage& image) {
  return cv::Mat(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
}

absl::Status CheckGeometry(const RgbImage& image, const ImageGeometry& g) {
  if (image.width != g.source_width || image.height != g.source_height) {
    return absl::InvalidArgumentError(absl::StrCat("image geometry expects a ", g.source_width, "x", g.source_height,
                                                   " source, got ", image.width, "x", image.height));
  }
  if (g.resized_width <= 0 || g.resized_height <= 0 || g.crop_x < 0 || g.crop_y < 0 || g.crop_width <= 0 ||
      g.crop_height <= 0 || g.crop_x + g.crop_width > g.resized_width || g.crop_y + g.crop_height > g.resized_height) {
    return absl::InvalidArgumentError(absl::StrCat("image geometry: crop ", g.crop_width, "x", g.crop_height, "+",
                                                   g.crop_x, "+", g.crop_y, " outside the resized ", g.resized_width,
                                                   "x", g.resized_height, " image"));
  }
  return absl::OkStatus();
}

// The frame at the geometry's resized size (OpenCV's bicubic), or the frame itself when it already is.
cv::Mat Resized(const RgbImage& image, const ImageGeometry& g) {
  if (g.resized_width == image.width && g.resized_height == image.height) return AsMat(image);
  cv::Mat resized;
  cv::resize(AsMat(image), resized, cv::Size(g.resized_width, g.resized_height), 0, 0, cv::INTER_CUBIC);
  return resized;
}

// Writes the crop of `resized` that `g` describes into `dst` (crop-sized), mirrored left-right when g.flipped.
void CropInto(const cv::Mat& resized, const ImageGeometry& g, cv::Mat& dst) {
  const cv::Mat roi = resized(cv::Rect(g.crop_x, g.crop_y, g.crop_width, g.crop_height));
  if (g.flipped) {
    cv::flip(roi, dst, 1);
  } else {
    roi.copyTo(dst);
  }
}

}  // namespace

absl::StatusOr<RgbImage> DecodeImageBytes(const std::vector<uint8_t>& bytes, const std::string& name) {
  if (bytes.size() < 8) {
    return absl::InvalidArgumentError(absl::StrCat("image ", name, ": ", bytes.size(), " bytes, not an image"));
  }
  // The formats avsl decodes (libjpeg, libpng): the datasets and `avsl infer` need no other.
  const bool is_jpeg = IsJpeg(bytes);
  if (!is_jpeg && !IsPng(bytes)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "image %s: not a JPEG or PNG file (it starts with %02x %02x %02x %02x); avsl decodes these two formats only",
        name, bytes[0], bytes[1], bytes[2], bytes[3]));
  }
  if (is_jpeg && !JpegHasEndMarker(bytes)) {
    return absl::DataLossError(absl::StrCat("image ", name, ": truncated JPEG (no end-of-image marker)"));
  }
  const auto [declared_width, declared_height] = DeclaredSize(bytes);
  const uint64_t max_pixels = LimitFromEnvironment("AVSL_MAX_IMAGE_PIXELS", kMaxImagePixels);
  if (declared_width * declared_height > max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat("image ", name, ": its header declares ", declared_width, "x",
                                                   declared_height, " pixels, above the ", max_pixels,
                                                   " avsl decodes (a corrupt header? AVSL_MAX_IMAGE_PIXELS=N raises "
                                                   "the limit)"));
  }
  return is_jpeg ? DecodeJpeg(bytes, name) : DecodePng(bytes, name);
}

absl::StatusOr<std::vector<uint8_t>> EncodeJpeg(const RgbImage& image, int quality, const std::string& name) {
  if (absl::Status s = CheckRgbImage(image, "jpeg " + name); !s.ok()) return s;
  return EncodeJpegBytes(RowsOf(image), quality, name);
}

absl::StatusOr<RgbImage> DecodeImageFile(const std::string& path) {
  absl::StatusOr<std::vector<uint8_t>> bytes = io::internal::ReadWholeFile<std::vector<uint8_t>>(path, "image");
  if (!bytes.ok()) return bytes.status();
  return DecodeImageBytes(*bytes, path);
}

std::array<int, 2> ShortSideResize(int width, int height, int short_side) {
  const bool w_short = width <= height;
  const int s = w_short ? width : height;
  const int l = w_short ? height : width;
  // Python: int(size * long / short) — an exact integer product then one correctly rounded division.
  const int new_long = static_cast<int>(static_cast<double>(static_cast<int64_t>(short_side) * l) / s);
  return w_short ? std::array<int, 2>{short_side, new_long} : std::array<int, 2>{new_long, short_side};
}

absl::StatusOr<ImageGeometry> SampleTrainGeometry(int width, int height, const TrainTransformOptions& o,
                                                  std::mt19937_64& rng) {
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("train transform: empty image ", width, "x", height));
  }
  ImageGeometry g;
  g.source_width = width;
  g.source_height = height;
  const auto [rw, rh] = ShortSideResize(width, height, o.resize_short_side);
  g.resized_width = rw;
  g.resized_height = rh;
  if (rw < o.crop_size || rh < o.crop_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("train transform: resized image ", rw, "x", rh, " is smaller than the crop ", o.crop_size));
  }
  g.crop_width = g.crop_height = o.crop_size;
  // torchvision draws the row offset first, then the column offset, then the flip; same order here.
  g.crop_y = static_cast<int>(rng() % static_cast<uint64_t>(rh - o.crop_size + 1));
  g.crop_x = static_cast<int>(rng() % static_cast<uint64_t>(rw - o.crop_size + 1));
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  g.flipped = u < o.flip_probability;
  return g;
}

ImageGeometry TestGeometry(int width, int height, const TestTransformOptions& o) {
  ImageGeometry g;
  g.source_width = width;
  g.source_height = height;
  g.resized_width = g.crop_width = o.width;
  g.resized_height = g.crop_height = o.height;
  return g;
}

absl::StatusOr<RgbImage> ApplyGeometryRgb(const RgbImage& image, const ImageGeometry& g) {
  if (absl::Status s = CheckGeometry(image, g); !s.ok()) return s;
  const cv::Mat resized = Resized(image, g);
  RgbImage out;
  out.width = g.crop_width;
  out.height = g.crop_height;
  out.pixels.resize(static_cast<size_t>(out.width) * out.height * 3);
  cv::Mat dst(out.height, out.width, CV_8UC3, out.pixels.data());
  CropInto(resized, g, dst);
  return out;
}

absl::StatusOr<ImageTensor> ApplyGeometry(const RgbImage& image, const ImageGeometry& g, const Normalization& n) {
  if (absl::Status s = CheckGeometry(image, g); !s.ok()) return s;
  const cv::Mat resized = Resized(image, g);
  // ToTensor then Normalize in float32, as torchvision does: (v / 255 − mean) / std, looked up per channel.
  float lut[3][256];
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) lut[c][v] = (static_cast<float>(v) / 255.0f - n.mean[c]) / n.std[c];
  }
  ImageTensor t;
  t.height = g.crop_height;
  t.width = g.crop_width;
  const size_t plane = static_cast<size_t>(t.height) * t.width;
  t.values.resize(3 * plane);
  // Crop, mirror and normalize in one pass over the resized frame (the values of CropInto then the lookup).
  for (int y = 0; y < t.height; ++y) {
    const uint8_t* row = resized.ptr<uint8_t>(g.crop_y + y) + 3 * static_cast<size_t>(g.crop_x);
    float* out = t.values.data() + static_cast<size_t>(y) * t.width;
    for (int x = 0; x < t.width; ++x) {
      const uint8_t* px = row + 3 * static_cast<size_t>(g.flipped ? t.width - 1 - x : x);
      out[x] = lut[0][px[0]];
      out[plane + x] = lut[1][px[1]];
      out[2 * plane + x] = lut[2][px[2]];
    }
  }
  return t;
}

absl::StatusOr<ImageTensor> TrainTransform(const RgbImage& image, const TrainTransformOptions& options,
                                           std::mt19937_64& rng, ImageGeometry* geometry_out) {
  absl::StatusOr<ImageGeometry> g = SampleTrainGeometry(image.width, image.height, options, rng);
  if (!g.ok()) return g.status();
  if (geometry_out != nullptr) *geometry_out = *g;
  return ApplyGeometry(image, *g, options.norm);
}

absl::StatusOr<ImageTensor> TestTransform(const RgbImage& image, const TestTransformOptions& options) {
  return ApplyGeometry(image, TestGeometry(image.width, image.height, options), options.norm);
}

std::array<double, 4> TransformBox(const std::array<double, 4>& box, const ImageGeometry& g) {
  const double sx = static_cast<double>(g.resized_width) / g.source_width;
  const double sy = static_cast<double>(g.resized_height) / g.source_height;
  auto cx = [&](double x) { return std::clamp(x * sx - g.crop_x, 0.0, static_cast<double>(g.crop_width)); };
  auto cy = [&](double y) { return std::clamp(y * sy - g.crop_y, 0.0, static_cast<double>(g.crop_height)); };
  double x0 = cx(box[0]), x1 = cx(box[2]);
  if (g.flipped) {
    const double w = g.crop_width;
    std::swap(x0, x1);
    x0 = w - x0;
    x1 = w - x1;
  }
  return {x0, cy(box[1]), x1, cy(box[3])};
}

Map2D TransformMap(const Map2D& map, const ImageGeometry& g, bool nearest) {
  cv::Mat src(map.height, map.width, CV_64F, const_cast<double*>(map.values.data()));
  cv::Mat resized;
  cv::resize(src, resized, cv::Size(g.resized_width, g.resized_height), 0, 0,
             nearest ? cv::INTER_NEAREST : cv::INTER_LINEAR);
  Map2D out(g.crop_height, g.crop_width);
  cv::Mat dst(out.height, out.width, CV_64F, out.values.data());
  CropInto(resized, g, dst);
  return out;
}

}  // namespace avsl::data
