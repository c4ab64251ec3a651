#include "avsl/metrics/metric_fields.h"

#include "absl/strings/str_join.h"

namespace avsl::metrics {

const std::vector<MetricField>& MetricFields() {
  static const auto* fields = new std::vector<MetricField>{
      {"loc_acc", &MetricSet::loc_acc, "LocAcc", "LocAcc"},
      {"auc", &MetricSet::auc, "AUC", "AUC"},
      {"mean_ciou", &MetricSet::mean_ciou, "mean cIoU", "mCIoU"},
      {"pointing", &MetricSet::pointing, "Pointing", "Point"},
      {"ap", &MetricSet::ap, "AP", "AP"},
      {"max_f1", &MetricSet::max_f1, "max-F1", "maxF1"},
      {"ap_ref", &MetricSet::ap_ref, "AP_ref", "AP_ref"},
      {"max_f1_ref", &MetricSet::max_f1_ref, "max-F1_ref", "F1_ref"},
  };
  return *fields;
}

const MetricField* FindMetricField(std::string_view name) {
  for (const MetricField& f : MetricFields())
    if (name == f.name) return &f;
  return nullptr;
}

std::string MetricFieldNames() {
  return absl::StrJoin(MetricFields(), ", ", [](std::string* out, const MetricField& f) { out->append(f.name); });
}

}  // namespace avsl::metrics
