#include "avsl/synth/class_catalogue.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace avsl {
namespace synth {
namespace {

struct Colour {
  const char* name;
  std::array<double, 3> rgb;
};

// Saturated, well-separated hues: the backgrounds and distractors are desaturated, so colour is a strong
// but not sufficient cue (each colour is shared by 5 shapes).
constexpr Colour kColours[kNumColours] = {
    {"red", {0.90, 0.12, 0.10}},
    {"green", {0.10, 0.75, 0.20}},
    {"blue", {0.15, 0.25, 0.95}},
    {"yellow", {0.95, 0.85, 0.10}},
};

// AM rates and harmonic roll-offs cycle with different periods (4 and 3) than the shapes (5) and colours,
// so neighbouring classes differ in several sound attributes at once.
constexpr double kAmRates[4] = {0.0, 4.0, 9.0, 15.0};
constexpr double kRolloffs[3] = {0.5, 1.0, 2.0};

}  // namespace

const char* ShapeName(Shape shape) {
  switch (shape) {
    case Shape::kDisk: return "disk";
    case Shape::kSquare: return "square";
    case Shape::kTriangle: return "triangle";
    case Shape::kCross: return "cross";
    case Shape::kRing: return "ring";
  }
  return "?";
}

const char* TextureName(Texture texture) {
  switch (texture) {
    case Texture::kSolid: return "solid";
    case Texture::kStripes: return "striped";
    case Texture::kChecker: return "checkered";
  }
  return "?";
}

absl::StatusOr<ClassCatalogue> ClassCatalogue::Create(const CatalogueOptions& options) {
  const int k_total = options.num_classes;
  if (k_total < 2 || k_total > kMaxClasses) {
    return absl::InvalidArgumentError(
        absl::StrCat("synth option num_classes: got ", k_total, ", expected an integer in [2, ", kMaxClasses, "]"));
  }
  if (!(options.f0_min_hz > 0.0) || !(options.f0_max_hz > options.f0_min_hz)) {
    return absl::InvalidArgumentError(absl::StrCat("synth options f0_min_hz/f0_max_hz: got ", options.f0_min_hz, "/",
                                                   options.f0_max_hz, ", expected 0 < min < max"));
  }
  ClassCatalogue catalogue;
  catalogue.classes_.reserve(static_cast<size_t>(k_total));
  const double log_ratio = std::log(options.f0_max_hz / options.f0_min_hz);
  for (int k = 0; k < k_total; ++k) {
    ClassSpec spec;
    spec.id = k;
    const int shape = k % kNumShapes;
    const int colour = (k / kNumShapes) % kNumColours;
    const int block = k / (kNumShapes * kNumColours);
    // (shape, colour, block) is a mixed-radix digit expansion of k, so it is unique; the texture is a shift
    // of `block` by (shape + colour), a bijection for fixed (shape, colour), so (shape, colour, texture) stays
    // unique while textures already vary among the first 20 classes.
    const int texture = (block + shape + colour) % kNumTextures;
    spec.shape = static_cast<Shape>(shape);
    spec.texture = static_cast<Texture>(texture);
    spec.rgb = kColours[colour].rgb;
    spec.name = spec.texture == Texture::kSolid
                    ? absl::StrCat(kColours[colour].name, " ", ShapeName(spec.shape))
                    : absl::StrCat(kColours[colour].name, " ", TextureName(spec.texture), " ", ShapeName(spec.shape));
    // Alternating heard/unheard spreads both halves over all shapes, colours and pitches.
    spec.heard = (k % 2) == 0;
    spec.f0_hz = options.f0_min_hz * std::exp(log_ratio * k / (k_total - 1));
    spec.rolloff = kRolloffs[k % 3];
    spec.odd_only = ((k / 3) % 2) == 1;
    spec.am_hz = kAmRates[k % 4];
    catalogue.classes_.push_back(std::move(spec));
  }
  return catalogue;
}

std::vector<int> ClassCatalogue::HeardIds() const {
  std::vector<int> ids;
  for (const ClassSpec& c : classes_) {
    if (c.heard) ids.push_back(c.id);
  }
  return ids;
}

std::vector<int> ClassCatalogue::UnheardIds() const {
  std::vector<int> ids;
  for (const ClassSpec& c : classes_) {
    if (!c.heard) ids.push_back(c.id);
  }
  return ids;
}

}  // namespace synth
}  // namespace avsl
