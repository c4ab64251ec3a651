// The object classes of the synthetic audio-visual benchmark: what each class looks like and sounds like.
//
// A class is identified jointly by a visual identity (shape, colour, texture) and a sound identity
// (fundamental frequency, harmonic profile, amplitude modulation). The catalogue is a pure function of
// the class count, so every dataset with the same K shares the same classes (the seed only changes scenes).
#pragma once

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace avsl {
namespace synth {

/// Shapes, drawn inside the object's box (the box is the tight bounding box of the shape).
enum class Shape { kDisk = 0, kSquare, kTriangle, kCross, kRing };
/// Surface patterns, scaled to the object's box so they stay visible on small objects.
enum class Texture { kSolid = 0, kStripes, kChecker };

inline constexpr int kNumShapes = 5;
inline constexpr int kNumColours = 4;
inline constexpr int kNumTextures = 3;
/// Largest K with distinct (shape, colour, texture) identities.
inline constexpr int kMaxClasses = kNumShapes * kNumColours * kNumTextures;

/// One class of the catalogue.
struct ClassSpec {
  int id = 0;
  std::string name;  ///< e.g. "red striped disk"; unique within the catalogue.
  Shape shape = Shape::kDisk;
  Texture texture = Texture::kSolid;
  std::array<double, 3> rgb{};  ///< base colour, components in [0, 1].
  bool heard = true;            ///< open-set split: heard classes may sound in training.
  double f0_hz = 0.0;           ///< fundamental frequency before the per-clip jitter.
  double rolloff = 1.0;         ///< partial h has amplitude h^-rolloff.
  bool odd_only = false;        ///< only odd partials (1, 3, 5, ...): a clarinet-like timbre.
  double am_hz = 0.0;           ///< amplitude-modulation rate, 0 for a steady tone.
};

/// Parameters of the class catalogue.
struct CatalogueOptions {
  int num_classes = 20;      ///< K, in [2, kMaxClasses].
  double f0_min_hz = 150.0;  ///< f0 of class 0; f0 is log-spaced up to f0_max_hz for class K-1.
  double f0_max_hz = 2000.0;
};

/// The K classes of the benchmark.
class ClassCatalogue {
 public:
  /// Builds the catalogue; fails when K is outside [2, kMaxClasses] or the f0 range is not increasing.
  static absl::StatusOr<ClassCatalogue> Create(const CatalogueOptions& options);

  int size() const { return static_cast<int>(classes_.size()); }
  const ClassSpec& at(int id) const { return classes_.at(static_cast<size_t>(id)); }
  const std::vector<ClassSpec>& classes() const { return classes_; }
  /// Ids of heard (resp. unheard) classes, ascending.
  std::vector<int> HeardIds() const;
  std::vector<int> UnheardIds() const;

 private:
  std::vector<ClassSpec> classes_;
};

/// Lower-case names used in class names ("disk", "red", "striped", ...).
const char* ShapeName(Shape shape);
const char* TextureName(Texture texture);

}  // namespace synth
}  // namespace avsl
