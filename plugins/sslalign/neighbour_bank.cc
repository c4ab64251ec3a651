#include "neighbour_bank.h"

#include <algorithm>
#include <limits>

#include <torch/torch.h>

namespace avsl::plugins::sslalign {

void NeighbourBank::Record(const std::vector<std::string>& keys, const torch::Tensor& image, const torch::Tensor& audio,
                           const torch::Tensor& classes) {
  const auto b = static_cast<int64_t>(keys.size());
  TORCH_CHECK(image.dim() == 2 && audio.dim() == 2 && image.size(0) == b && audio.size(0) == b,
              "NeighbourBank::Record: expected [B,C] image and audio embeddings for ", keys.size(), " keys, got ",
              image.sizes(), " and ", audio.sizes());
  TORCH_CHECK(!classes.defined() || classes.numel() == b, "NeighbourBank::Record: expected ", b, " classes, got ",
              classes.sizes());
  const torch::Tensor img = image.detach().to(torch::kFloat), aud = audio.detach().to(torch::kFloat);
  image_dim_ = img.size(1);
  audio_dim_ = aud.size(1);
  device_ = img.device();
  const torch::Tensor cls = classes.defined() ? classes.to(torch::kCPU, torch::kLong).contiguous()
                                              : torch::full({b}, -1, torch::kLong);
  const int64_t* c = cls.data_ptr<int64_t>();
  for (int64_t i = 0; i < b; ++i) {
    const auto [it, inserted] = record_index_.emplace(keys[static_cast<size_t>(i)],
                                                      static_cast<int64_t>(record_image_.size()));
    if (inserted) {
      record_image_.push_back(img[i]);
      record_audio_.push_back(aud[i]);
      record_class_.push_back(c[i]);
    } else {
      const auto row = static_cast<size_t>(it->second);
      record_image_[row] = img[i];
      record_audio_[row] = aud[i];
      record_class_[row] = c[i];
    }
  }
}

void NeighbourBank::Refresh(RankGroup* ranks) {
  std::vector<int64_t> hashes(record_image_.size());
  for (const auto& [key, row] : record_index_)
    hashes[static_cast<size_t>(row)] = static_cast<int64_t>(SampleKeyHash(key));
  torch::Tensor image = record_image_.empty() ? torch::zeros({0, image_dim_}) : torch::stack(record_image_);
  torch::Tensor audio = record_audio_.empty() ? torch::zeros({0, audio_dim_}) : torch::stack(record_audio_);
  torch::Tensor classes = torch::tensor(record_class_, torch::kLong);
  torch::Tensor keys = torch::tensor(hashes, torch::kLong);
  record_index_.clear();
  record_image_.clear();
  record_audio_.clear();
  record_class_.clear();
  if (ranks != nullptr && ranks->world_size() > 1) {
    // Through the CPU on every rank (a rank that recorded nothing has no device to offer, and all ranks must send
    // alike), then back to this rank's device.
    torch::NoGradGuard no_grad;
    image = ranks->AllGather(image.cpu()).all.to(device_);
    audio = ranks->AllGather(audio.cpu()).all.to(device_);
    classes = ranks->AllGather(classes).all;
    keys = ranks->AllGather(keys).all;
    std::vector<int64_t> keep;
    std::unordered_map<uint64_t, int64_t> seen;
    const int64_t* k = keys.data_ptr<int64_t>();
    for (int64_t i = 0; i < keys.size(0); ++i) {
      if (seen.emplace(static_cast<uint64_t>(k[i]), i).second) keep.push_back(i);
    }
    if (static_cast<int64_t>(keep.size()) < keys.size(0)) {
      const torch::Tensor rows = torch::tensor(keep, torch::kLong);
      image = image.index_select(0, rows.to(device_));
      audio = audio.index_select(0, rows.to(device_));
      classes = classes.index_select(0, rows);
      keys = keys.index_select(0, rows);
    }
  }
  bank_index_.clear();
  const int64_t* k = keys.data_ptr<int64_t>();
  for (int64_t i = 0; i < keys.size(0); ++i) bank_index_.emplace(static_cast<uint64_t>(k[i]), i);
  if (keys.size(0) == 0) {
    bank_image_ = bank_audio_ = bank_class_ = torch::Tensor();
  } else {
    bank_image_ = image;
    bank_audio_ = audio;
    bank_class_ = classes.contiguous();
  }
}

int64_t NeighbourBank::Row(const std::string& key) const {
  const auto it = bank_index_.find(SampleKeyHash(key));
  return it == bank_index_.end() ? -1 : it->second;
}

bool NeighbourBank::DrawNeighbours(const std::vector<std::string>& keys, const torch::Tensor& image,
                                   const torch::Tensor& audio, int64_t k, Draw* out) const {
  const auto b = static_cast<int64_t>(keys.size());
  TORCH_CHECK(image.dim() == 2 && audio.dim() == 2 && image.size(0) == b && audio.size(0) == b,
              "NeighbourBank::DrawNeighbours: expected [B,C] image and audio embeddings for ", b, " keys, got ",
              image.sizes(), " and ", audio.sizes());
  const int64_t n = size();
  // A row whose own key is in the bank has n - 1 entries to draw from.
  std::vector<int64_t> own(static_cast<size_t>(b));
  bool any_own = false;
  for (int64_t i = 0; i < b; ++i) {
    own[static_cast<size_t>(i)] = Row(keys[static_cast<size_t>(i)]);
    any_own = any_own || own[static_cast<size_t>(i)] >= 0;
  }
  const int64_t kk = std::min<int64_t>(k, any_own ? n - 1 : n);
  if (kk <= 0) return false;
  torch::NoGradGuard no_grad;
  const torch::Tensor query = torch::cat({image.detach(), audio.detach()}, 1).to(bank_image_.options());
  torch::Tensor sim = query.matmul(torch::cat({bank_image_, bank_audio_}, 1).t());  // [B,N]
  std::vector<int64_t> self_rows, self_cols;
  for (int64_t i = 0; i < b; ++i) {
    if (own[static_cast<size_t>(i)] < 0) continue;
    self_rows.push_back(i);
    self_cols.push_back(own[static_cast<size_t>(i)]);
  }
  if (!self_rows.empty()) {
    sim.index_put_({torch::tensor(self_rows, torch::kLong).to(sim.device()),
                    torch::tensor(self_cols, torch::kLong).to(sim.device())},
                   -std::numeric_limits<float>::infinity());
  }
  const torch::Tensor nearest = std::get<1>(sim.topk(kk, 1));  // [B,kk] bank rows, on the bank's device
  const torch::Tensor which = torch::randint(kk, {b, 1}, torch::kLong).to(nearest.device());
  const torch::Tensor picked = nearest.gather(1, which).squeeze(1);
  out->image = bank_image_.index_select(0, picked);
  out->audio = bank_audio_.index_select(0, picked);
  out->classes = bank_class_.index_select(0, picked.cpu());
  return true;
}

}  // namespace avsl::plugins::sslalign
