#include "avsl/train/sharded_evaluation.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "avsl/metrics/evaluator.h"

namespace avsl::train {
namespace {

template <typename T>
void Put(std::string& out, const T& value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

void PutString(std::string& out, const std::string& s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// Reads a shard's bytes front to back; any read past the end (or a malformed value) fails the whole decode.
class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  template <typename T>
  bool Take(T* value) {
    if (in_.size() - offset_ < sizeof(T)) return false;
    std::memcpy(value, in_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return true;
  }
  bool TakeString(std::string* s) {
    uint32_t size = 0;
    if (!Take(&size) || in_.size() - offset_ < size) return false;
    *s = in_.substr(offset_, size);
    offset_ += size;
    return true;
  }
  size_t offset() const { return offset_; }
  bool done() const { return offset_ == in_.size(); }

 private:
  const std::string& in_;
  size_t offset_ = 0;
};

}  // namespace

std::string EncodeShard(const MethodEvaluation& local) {
  std::string out;
  PutString(out, local.confidence);
  const std::vector<SampleRecord>& records = local.result.samples;
  Put<uint64_t>(out, records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const SampleRecord& r = records[i];
    const SampleContribution c = i < local.contributions.size() ? local.contributions[i] : SampleContribution{};
    Put<uint64_t>(out, i < local.indices.size() ? local.indices[i] : i);
    Put<double>(out, r.ciou);
    Put<double>(out, r.conf);
    Put<double>(out, r.area);
    Put<uint8_t>(out, static_cast<uint8_t>((r.sounding ? 1 : 0) | (r.pointing_hit ? 2 : 0) |
                                           (r.bucket.has_value() ? 4 : 0) | (c.interactive ? 8 : 0)));
    Put<uint8_t>(out, static_cast<uint8_t>(r.bucket.has_value() ? static_cast<int>(*r.bucket) : 0));
    PutString(out, r.key);
    PutString(out, c.frame);
    Put<int64_t>(out, c.peak);
    Put<double>(out, c.scores.ciou);
    Put<double>(out, c.scores.ciou_adaptive);
  }
  Put<uint64_t>(out, local.negatives.size());
  for (const NegativeContribution& n : local.negatives) {
    Put<uint64_t>(out, n.index);
    PutString(out, n.kind);
    PutString(out, n.frame);
    PutString(out, n.key);
    Put<double>(out, n.conf);
    Put<int64_t>(out, n.peak);
  }
  return out;
}

absl::Status DecodeShard(const std::string& bytes, int rank, MethodEvaluation* out) {
  Reader in(bytes);
  auto malformed = [&] {
    return absl::DataLossError(absl::StrCat("the evaluation records of rank ", rank, " are malformed at byte ",
                                            in.offset(), " of ", bytes.size()));
  };
  uint64_t count = 0;
  if (!in.TakeString(&out->confidence) || !in.Take(&count)) return malformed();
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t index = 0;
    uint8_t flags = 0, bucket = 0;
    SampleRecord r;
    SampleContribution c;
    if (!in.Take(&index) || !in.Take(&r.ciou) || !in.Take(&r.conf) || !in.Take(&r.area) || !in.Take(&flags) ||
        !in.Take(&bucket) || bucket >= kNumSizeBuckets || !in.TakeString(&r.key) || !in.TakeString(&c.frame) ||
        !in.Take(&c.peak) || !in.Take(&c.scores.ciou) || !in.Take(&c.scores.ciou_adaptive)) {
      return malformed();
    }
    r.sounding = (flags & 1) != 0;
    r.pointing_hit = (flags & 2) != 0;
    if ((flags & 4) != 0) r.bucket = static_cast<SizeBucket>(bucket);
    c.interactive = (flags & 8) != 0;
    out->indices.push_back(static_cast<size_t>(index));
    out->result.samples.push_back(std::move(r));
    out->contributions.push_back(std::move(c));
  }
  uint64_t negatives = 0;
  if (!in.Take(&negatives)) return malformed();
  for (uint64_t i = 0; i < negatives; ++i) {
    NegativeContribution n;
    uint64_t index = 0;
    if (!in.Take(&index) || !in.TakeString(&n.kind) || !in.TakeString(&n.frame) || !in.TakeString(&n.key) ||
        !in.Take(&n.conf) || !in.Take(&n.peak)) {
      return malformed();
    }
    n.index = static_cast<size_t>(index);
    out->negatives.push_back(std::move(n));
  }
  if (!in.done()) return malformed();
  return absl::OkStatus();
}

absl::StatusOr<MethodEvaluation> GatherMethodEvaluation(const absl::StatusOr<MethodEvaluation>& local,
                                                        const metrics::EvalProtocol& protocol,
                                                        dist::Communicator& comm) {
  // A rank whose shard failed still takes part, with its error, so every rank stops here with the same cause
  // instead of waiting for a peer that will never send.
  const std::string mine = local.ok() ? std::string(1, '\0') + EncodeShard(*local)
                                      : std::string(1, '\1') + std::string(local.status().message());
  AVSL_ASSIGN_OR_RETURN(std::vector<std::string> shards,
                        comm.AllGatherBytes(mine, "the exchange of evaluation records"));
  if (!local.ok()) return local.status();
  for (size_t r = 0; r < shards.size(); ++r) {
    if (!shards[r].empty() && shards[r][0] == '\1') {
      return absl::AbortedError(absl::StrCat("rank ", r, "'s share of the evaluation failed: ", shards[r].substr(1)));
    }
  }
  MethodEvaluation all;
  all.confidence = local->confidence;
  size_t last_index = 0;
  for (size_t r = 0; r < shards.size(); ++r) {
    MethodEvaluation shard;
    AVSL_RETURN_IF_ERROR(DecodeShard(shards[r].substr(1), static_cast<int>(r), &shard));
    // One process reports the rule of its last batch: here the shard that holds the split's last sample says it.
    for (size_t index : shard.indices) {
      if (index >= last_index) last_index = index, all.confidence = shard.confidence;
    }
    for (const NegativeContribution& n : shard.negatives) {
      if (n.index >= last_index) last_index = n.index, all.confidence = shard.confidence;
    }
    all.indices.insert(all.indices.end(), shard.indices.begin(), shard.indices.end());
    all.contributions.insert(all.contributions.end(), shard.contributions.begin(), shard.contributions.end());
    all.negatives.insert(all.negatives.end(), shard.negatives.begin(), shard.negatives.end());
    for (SampleRecord& record : shard.result.samples) all.result.samples.push_back(std::move(record));
  }
  // Dataset order: the order of an unsharded evaluation (evaluation loaders do not shuffle).
  std::vector<size_t> order(all.indices.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return all.indices[a] < all.indices[b]; });
  MethodEvaluation merged;
  merged.confidence = all.confidence;
  metrics::Evaluator evaluator(protocol);
  metrics::AudioDependence dependence;
  metrics::InteractiveEvaluator interactive;
  for (size_t k : order) {
    const SampleContribution& c = all.contributions[k];
    const bool sounding = all.result.samples[k].sounding;
    merged.indices.push_back(all.indices[k]);
    merged.contributions.push_back(c);
    AVSL_RETURN_IF_ERROR(evaluator.AddRecord(all.result.samples[k]));
    dependence.AddPeak(c.frame, sounding, c.peak);
    if (c.interactive) interactive.AddScores(c.frame, c.scores);
  }
  merged.result = evaluator.Finalize();
  merged.audio_dependence = dependence.Finalize();
  merged.interactive = interactive.Finalize();
  std::stable_sort(all.negatives.begin(), all.negatives.end(),
                   [](const NegativeContribution& a, const NegativeContribution& b) { return a.index < b.index; });
  metrics::NegativeAudio negatives;
  for (const NegativeContribution& n : all.negatives) {
    AVSL_RETURN_IF_ERROR(negatives.AddNegativePeak(n.kind, n.frame, n.key, n.conf, n.peak));
  }
  if (!negatives.empty()) {
    merged.negative_audio = negatives.Finalize(merged.result, protocol.ciou_threshold, dependence);
  }
  merged.negatives = std::move(all.negatives);
  return merged;
}

}  // namespace avsl::train
