#include <torch/torch.h>

#include <cstring>

#include "absl/strings/str_cat.h"
#include "avsl/train/collate.h"

namespace avsl::train {

absl::StatusOr<Batch> Collate(const std::vector<Sample>& samples, const torch::Device& device) {
  if (samples.empty()) return absl::InvalidArgumentError("cannot collate an empty batch");
  const Sample& first = samples.front();
  int gt_h = 0, gt_w = 0;
  for (const Sample& s : samples) {
    if (s.gt_map.size() > 0) {
      gt_h = s.gt_map.height;
      gt_w = s.gt_map.width;
      break;
    }
  }
  if (gt_h == 0) gt_h = gt_w = 1;  // keeps gt_map a valid [B,1,1] zero tensor when nothing is annotated
  const int64_t n = static_cast<int64_t>(samples.size());
  torch::Tensor image = torch::empty({n, first.image.channels, first.image.height, first.image.width});
  torch::Tensor audio = torch::empty({n, 1, first.audio.freq_bins, first.audio.frames});
  torch::Tensor gt = torch::zeros({n, gt_h, gt_w});
  torch::Tensor has_gt = torch::zeros({n}, torch::kBool);
  torch::Tensor sounding = torch::zeros({n}, torch::kBool);
  torch::Tensor class_id = torch::empty({n}, torch::kLong);
  Batch batch;
  for (int64_t i = 0; i < n; ++i) {
    const Sample& s = samples[static_cast<size_t>(i)];
    if (s.image.channels != first.image.channels || s.image.height != first.image.height ||
        s.image.width != first.image.width || s.image.values.size() != static_cast<size_t>(image[0].numel())) {
      return absl::InvalidArgumentError(absl::StrCat("sample '", s.key, "': image ", s.image.channels, "x",
                                                     s.image.height, "x", s.image.width, " differs from '", first.key,
                                                     "' (", first.image.channels, "x", first.image.height, "x",
                                                     first.image.width, ") in the same batch"));
    }
    if (s.audio.freq_bins != first.audio.freq_bins || s.audio.frames != first.audio.frames) {
      return absl::InvalidArgumentError(absl::StrCat("sample '", s.key, "': spectrogram [1,", s.audio.freq_bins, ",",
                                                     s.audio.frames, "] differs from '", first.key, "' ([1,",
                                                     first.audio.freq_bins, ",", first.audio.frames, "])"));
    }
    std::memcpy(image[i].data_ptr<float>(), s.image.values.data(), s.image.values.size() * sizeof(float));
    std::memcpy(audio[i].data_ptr<float>(), s.audio.values.data(), s.audio.values.size() * sizeof(float));
    if (s.gt_map.size() > 0) {
      if (s.gt_map.height != gt_h || s.gt_map.width != gt_w) {
        return absl::InvalidArgumentError(absl::StrCat("sample '", s.key, "': GT map ", s.gt_map.height, "x",
                                                       s.gt_map.width, " differs from ", gt_h, "x", gt_w,
                                                       " in the same batch"));
      }
      float* dst = gt[i].data_ptr<float>();
      for (size_t k = 0; k < s.gt_map.values.size(); ++k) dst[k] = static_cast<float>(s.gt_map.values[k]);
    }
    has_gt[i] = s.has_gt;
    sounding[i] = s.sounding;
    class_id[i] = static_cast<int64_t>(s.class_id);
    batch.keys.push_back(s.key);
  }
  batch.image = image.to(device);
  batch.audio = audio.to(device);
  batch.gt_map = gt.to(device);
  batch.has_gt = has_gt.to(device);
  batch.sounding = sounding.to(device);
  batch.class_id = class_id.to(device);
  return batch;
}

}  // namespace avsl::train
