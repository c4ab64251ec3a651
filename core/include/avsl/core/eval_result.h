// What an evaluation produces: summary numbers overall and per object-size bucket, plus one record per
// sample. These are SDK value types (Metric components read them); the scorer that fills them is
// avsl/metrics/evaluator.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "avsl/core/export.h"

namespace avsl {

/// Object-size buckets of SLAVC's finalize_stats, from the GT area in 224×224 pixels.
enum class SizeBucket { kSmall = 0, kMedium = 1, kLarge = 2, kHuge = 3 };
inline constexpr int kNumSizeBuckets = 4;

/// area < 32² small, < 96² medium, < 144² large, else huge (SLAVC: min <= area < max). The area is Σgt, so a
/// Flickr pixel covered by one annotator counts 0.5. An all-zero GT (area 0) is small, as in SLAVC.
AVSL_EXPORT SizeBucket BucketForArea(double area);

/// "small", "medium", "large", "huge".
AVSL_EXPORT const char* BucketName(SizeBucket b);

/// One set of summary numbers (overall or for one size bucket). Undefined values are NaN. The table of
/// fields (name, column title, how to read it) is avsl/metrics/metric_fields.h.
struct MetricSet {
  int64_t n_sounding = 0;
  int64_t n_silent = 0;
  double loc_acc = 0;     ///< mean(ciou >= γ) over sounding samples.
  double auc = 0;         ///< 21-point trapezoid of LocAcc(γ) over γ = 0, 0.05, …, 1 (sounding samples).
  double mean_ciou = 0;   ///< mean cIoU over sounding samples.
  double pointing = 0;    ///< fraction of sounding samples whose map maximum lies in gt > 0.
  double ap = 0;          ///< paper-exact AP (all distinct confidences, no interpolation).
  double max_f1 = 0;      ///< paper-exact max-F1 over all distinct confidences.
  double ap_ref = 0;      ///< SLAVC calc_ap exactly.
  double max_f1_ref = 0;  ///< SLAVC finalize_stats decile F1, maximum.
};

/// What is kept per sample (also the rows of the per-sample CSV).
struct SampleRecord {
  std::string key;
  double ciou = 0;
  double conf = 0;
  bool sounding = false;
  std::optional<SizeBucket> bucket;  ///< Empty for silent samples.
  bool pointing_hit = false;
  double area = 0;  ///< Σgt.
};

struct EvalResult {
  MetricSet all;  ///< AP/F1 over sounding and silent samples; localization numbers over sounding ones.
  /// Per size bucket, sounding samples only (SLAVC's filter_subset keeps bb > 0 for size subsets), so
  /// n_silent is 0 there and AP/F1 measure confidence-vs-localization among visible sources.
  std::array<MetricSet, kNumSizeBuckets> buckets;
  std::vector<SampleRecord> samples;  ///< In insertion order.
};

}  // namespace avsl
