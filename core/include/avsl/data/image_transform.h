// Image decoding and the reference's train/test transforms (EZ-VSL/SLAVC datasets.py::get_{train,test}_dataset):
//   train: Resize(short side → 246, bicubic) · RandomCrop(224) · RandomHorizontalFlip(0.5) · ToTensor · Normalize
//   test:  Resize((224, 224), bicubic) · ToTensor · Normalize
// Resizing uses OpenCV's INTER_CUBIC, which differs from PIL's bicubic (see docs/preprocessing.md for the
// measured difference). The geometry is a value (ImageGeometry) so boxes and maps can follow it exactly.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "avsl/core/map2d.h"
#include "avsl/core/sample.h"

namespace avsl::data {

/// An 8-bit interleaved RGB image, row-major (height × width × 3).
struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;
};

using ::avsl::ImageTensor;  // a value type of the SDK (avsl/core/sample.h)

/// Per-channel ImageNet statistics; ToTensor's /255 is applied before them.
struct Normalization {
  std::array<float, 3> mean = {0.485f, 0.456f, 0.406f};
  std::array<float, 3> std = {0.229f, 0.224f, 0.225f};
};

struct TrainTransformOptions {
  int resize_short_side = 246;  ///< int(224 · 1.1).
  int crop_size = 224;
  double flip_probability = 0.5;
  Normalization norm;
};

struct TestTransformOptions {
  int width = 224;  ///< Squash resize: aspect ratio not kept (the GT boxes live in this frame).
  int height = 224;
  Normalization norm;
};

/// The sampled geometry of one transform, enough to re-apply it to the image, boxes and maps.
/// Source → resize to (resized_width × resized_height) → crop [crop_x, crop_x+crop_width) ×
/// [crop_y, crop_y+crop_height) → mirror horizontally if `flipped`.
struct ImageGeometry {
  int source_width = 0, source_height = 0;
  int resized_width = 0, resized_height = 0;
  int crop_x = 0, crop_y = 0, crop_width = 0, crop_height = 0;
  bool flipped = false;
};

/// Decodes a JPEG or PNG file to RGB like PIL's `Image.open(p).convert('RGB')`: EXIF orientation is ignored
/// (PIL does not apply it), grey images are replicated to 3 channels. Errors name the file: NotFound for a
/// missing file, InvalidArgument for undecodable bytes or another format, DataLoss for a JPEG without its
/// end-of-image marker or whose data ends before the image (libjpeg alone would return a grey-padded image where
/// PIL raises).
absl::StatusOr<RgbImage> DecodeImageFile(const std::string& path);
/// Same on bytes already in memory; `name` is used in error messages.
absl::StatusOr<RgbImage> DecodeImageBytes(const std::vector<uint8_t>& bytes, const std::string& name);
/// Baseline JPEG bytes of `image` at `quality` (1-100), as cv::imencode(".jpg") writes them (the synthetic frames).
/// `name` is used in error messages.
absl::StatusOr<std::vector<uint8_t>> EncodeJpeg(const RgbImage& image, int quality, const std::string& name);
/// The most pixels a JPEG or PNG header may declare (64 Mpx, 8192 x 8192): OpenCV allocates the whole frame before
/// decoding it, so a corrupt header is refused before that (found by fuzzing: tests/fuzz/regressions/image).
inline constexpr uint64_t kMaxImagePixels = uint64_t{1} << 26;

/// torchvision Resize(int) size rule: the short side becomes `short_side`, the long side
/// int(short_side · long / short) (truncated). Returns {width, height}.
std::array<int, 2> ShortSideResize(int width, int height, int short_side);

/// Samples the train geometry with `rng` (crop offsets: rng() % range; flip: (rng() >> 11)·2⁻⁵³ < p), so
/// the same generator state gives the same geometry on every platform. Fails if the resized image is
/// smaller than the crop.
absl::StatusOr<ImageGeometry> SampleTrainGeometry(int width, int height, const TrainTransformOptions& options,
                                                  std::mt19937_64& rng);
/// The deterministic test geometry (squash to options.width × options.height, no crop, no flip).
ImageGeometry TestGeometry(int width, int height, const TestTransformOptions& options);

/// Applies `geometry` to `image` (OpenCV INTER_CUBIC resize on uint8, crop, flip), then ToTensor and
/// Normalize. Fails if the geometry does not match the image size or the crop leaves the resized image.
absl::StatusOr<ImageTensor> ApplyGeometry(const RgbImage& image, const ImageGeometry& geometry,
                                          const Normalization& norm);
/// Resize/crop/flip only (uint8 result), for inspection and for measuring the resize itself.
absl::StatusOr<RgbImage> ApplyGeometryRgb(const RgbImage& image, const ImageGeometry& geometry);

/// Convenience: SampleTrainGeometry + ApplyGeometry. `geometry_out` (optional) receives the sample.
absl::StatusOr<ImageTensor> TrainTransform(const RgbImage& image, const TrainTransformOptions& options,
                                           std::mt19937_64& rng, ImageGeometry* geometry_out = nullptr);
absl::StatusOr<ImageTensor> TestTransform(const RgbImage& image, const TestTransformOptions& options = {});

/// Maps a box [xmin, ymin, xmax, ymax] in source-pixel edge coordinates (xmax exclusive, as in the
/// reference's `gt_map[ymin:ymax, xmin:xmax]`) through the geometry; the result is clipped to the crop and
/// may be empty (xmin == xmax) when the box lies outside it.
std::array<double, 4> TransformBox(const std::array<double, 4>& box, const ImageGeometry& geometry);

/// Maps a map covering the whole source image (any resolution) through the geometry: resize to the resized
/// frame (nearest by default, which keeps binary GT maps binary; bilinear otherwise), crop, flip.
Map2D TransformMap(const Map2D& map, const ImageGeometry& geometry, bool nearest = true);

}  // namespace avsl::data
