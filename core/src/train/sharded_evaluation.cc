#include "avsl/train/sharded_evaluation.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/metrics/evaluator.h"

namespace avsl::train {
namespace {

template <typename T>
void Put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
bool Take(const std::string& in, size_t* offset, T* value) {
  if (in.size() - *offset < sizeof(T)) return false;
  std::memcpy(value, in.data() + *offset, sizeof(T));
  *offset += sizeof(T);
  return true;
}

}  // namespace

std::string EncodeShardRecords(const MethodEvaluation& local) {
  std::string out;
  const std::vector<SampleRecord>& records = local.result.samples;
  Put<uint64_t>(out, records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const SampleRecord& r = records[i];
    Put<uint64_t>(out, i < local.indices.size() ? local.indices[i] : i);
    Put<double>(out, r.ciou);
    Put<double>(out, r.conf);
    Put<double>(out, r.area);
    Put<uint8_t>(
        out, static_cast<uint8_t>((r.sounding ? 1 : 0) | (r.pointing_hit ? 2 : 0) | (r.bucket.has_value() ? 4 : 0)));
    Put<uint8_t>(out, static_cast<uint8_t>(r.bucket.has_value() ? static_cast<int>(*r.bucket) : 0));
    Put<uint32_t>(out, static_cast<uint32_t>(r.key.size()));
    out.append(r.key);
  }
  return out;
}

absl::Status DecodeShardRecords(const std::string& bytes, int rank, std::vector<std::pair<size_t, SampleRecord>>* out) {
  size_t offset = 0;
  auto truncated = [&] {
    return absl::DataLossError(
        absl::StrCat("the evaluation records of rank ", rank, " are malformed at byte ", offset, " of ", bytes.size()));
  };
  uint64_t count = 0;
  if (!Take(bytes, &offset, &count)) return truncated();
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t index = 0;
    uint8_t flags = 0, bucket = 0;
    uint32_t key_size = 0;
    SampleRecord r;
    if (!Take(bytes, &offset, &index) || !Take(bytes, &offset, &r.ciou) || !Take(bytes, &offset, &r.conf) ||
        !Take(bytes, &offset, &r.area) || !Take(bytes, &offset, &flags) || !Take(bytes, &offset, &bucket) ||
        !Take(bytes, &offset, &key_size) || bytes.size() - offset < key_size || bucket >= kNumSizeBuckets) {
      return truncated();
    }
    r.key = bytes.substr(offset, key_size);
    offset += key_size;
    r.sounding = (flags & 1) != 0;
    r.pointing_hit = (flags & 2) != 0;
    if ((flags & 4) != 0) r.bucket = static_cast<SizeBucket>(bucket);
    out->emplace_back(static_cast<size_t>(index), std::move(r));
  }
  if (offset != bytes.size()) return truncated();
  return absl::OkStatus();
}

absl::StatusOr<EvalResult> GatherEvaluation(const MethodEvaluation& local, const metrics::EvalProtocol& protocol,
                                            dist::Communicator& comm) {
  AVSL_ASSIGN_OR_RETURN(std::vector<std::string> shards,
                        comm.AllGatherBytes(EncodeShardRecords(local), "the exchange of evaluation records"));
  std::vector<std::pair<size_t, SampleRecord>> all;
  for (size_t r = 0; r < shards.size(); ++r) {
    AVSL_RETURN_IF_ERROR(DecodeShardRecords(shards[r], static_cast<int>(r), &all));
  }
  // Dataset order: the order of an unsharded evaluation (evaluation loaders do not shuffle).
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  metrics::Evaluator evaluator(protocol);
  for (auto& [index, record] : all) AVSL_RETURN_IF_ERROR(evaluator.AddRecord(std::move(record)));
  return evaluator.Finalize();
}

}  // namespace avsl::train
