#include <algorithm>
#include <cstdint>
#include <memory>

#include "avsl/core/counter_rng.h"
#include "avsl/core/transform.h"
#include "builtins/core_components.h"

namespace avsl {
namespace {

// SpecAugment-style masking of the log spectrogram during training: `freq_masks` bands of up to
// `max_freq_width` bins and `time_masks` spans of up to `max_time_width` frames are set to `value`.
class SpectrogramMask final : public Transform {
 public:
  SpectrogramMask(long long freq_masks, long long max_freq, long long time_masks, long long max_time, double value)
      : freq_masks_(freq_masks), max_freq_(max_freq), time_masks_(time_masks), max_time_(max_time), value_(value) {}

  absl::Status Apply(Sample& sample, const SampleContext& context, size_t index) const override {
    if (!context.train) return absl::OkStatus();
    Spectrogram& s = sample.audio;
    // The mask positions depend only on (seed, epoch, index, draw), never on thread or order. Stream slot
    // 0x5A17 keeps them apart from every other keyed stream.
    CounterRng rng(CounterRng::KeyFor(context.seed, 0x5A17, context.epoch, index, 0));
    auto draw = [&](long long bound) {
      return bound <= 1 ? 0LL : static_cast<long long>(rng.UniformInt(static_cast<uint64_t>(bound)));
    };
    for (long long m = 0; m < freq_masks_; ++m) {
      const long long width = draw(max_freq_ + 1);
      const long long start = draw(std::max<long long>(1, s.freq_bins - width + 1));
      for (long long f = start; f < std::min<long long>(s.freq_bins, start + width); ++f)
        std::fill_n(s.values.begin() + f * s.frames, s.frames, static_cast<float>(value_));
    }
    for (long long m = 0; m < time_masks_; ++m) {
      const long long width = draw(max_time_ + 1);
      const long long start = draw(std::max<long long>(1, s.frames - width + 1));
      for (long long f = 0; f < s.freq_bins; ++f)
        for (long long t = start; t < std::min<long long>(s.frames, start + width); ++t)
          s.values[static_cast<size_t>(f * s.frames + t)] = static_cast<float>(value_);
    }
    return absl::OkStatus();
  }

 private:
  long long freq_masks_, max_freq_, time_masks_, max_time_;
  double value_;
};

}  // namespace

void RegisterTransforms(Registrar& registrar) {
  Schema s("SpecAugment-style frequency and time masking of the spectrogram (training only)");
  s.Int("freq_masks", 2, "number of frequency bands masked").Range(0, 64);
  s.Int("max_freq_width", 20, "widest frequency band, in bins").Range(0, 100000);
  s.Int("time_masks", 2, "number of time spans masked").Range(0, 64);
  s.Int("max_time_width", 20, "widest time span, in frames").Range(0, 100000);
  s.Float("value", 0.0, "value written into masked cells (the log spectrogram's scale)");
  registrar.Register<Transform>(
      "SpectrogramMask", std::move(s),
      [](const ComponentConfig& c) -> absl::StatusOr<std::shared_ptr<Transform>> {
        return std::make_shared<SpectrogramMask>(c.GetInt("freq_masks"), c.GetInt("max_freq_width"),
                                                 c.GetInt("time_masks"), c.GetInt("max_time_width"),
                                                 c.GetFloat("value"));
      },
      "SpecAugment-style masking, deterministic per (seed, epoch, index); no-op at evaluation");
}

}  // namespace avsl
