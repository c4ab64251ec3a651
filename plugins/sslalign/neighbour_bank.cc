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

void NeighbourBank::Refresh(int64_t k, int64_t block) {
  torch::NoGradGuard no_grad;
  bank_index_ = std::move(record_index_);
  record_index_.clear();
  if (record_image_.empty()) {
    bank_image_ = bank_audio_ = bank_class_ = neighbours_ = torch::Tensor();
    return;
  }
  bank_image_ = torch::stack(record_image_);
  bank_audio_ = torch::stack(record_audio_);
  bank_class_ = torch::tensor(record_class_, torch::kLong);
  record_image_.clear();
  record_audio_.clear();
  record_class_.clear();
  const int64_t n = bank_image_.size(0);
  const int64_t kk = std::min<int64_t>(k, n - 1);
  if (kk <= 0) {
    neighbours_ = torch::empty({n, 0}, torch::kLong);
    return;
  }
  // <g_i, g_j> + <a_i, a_j> is one dot product of the concatenated embeddings.
  const torch::Tensor joint = torch::cat({bank_image_, bank_audio_}, 1);
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < n; start += block) {
    const int64_t end = std::min(n, start + block);
    torch::Tensor sim = joint.slice(0, start, end).matmul(joint.t());
    const torch::Tensor self = torch::arange(start, end,
                                             torch::TensorOptions().dtype(torch::kLong).device(sim.device()));
    sim.index_put_({torch::arange(end - start, self.options()), self}, -std::numeric_limits<float>::infinity());
    parts.push_back(std::get<1>(sim.topk(kk, 1)).cpu());
  }
  neighbours_ = torch::cat(parts);
}

int64_t NeighbourBank::Row(const std::string& key) const {
  const auto it = bank_index_.find(key);
  return it == bank_index_.end() ? -1 : it->second;
}

NeighbourBank::Draw NeighbourBank::DrawNeighbours(const std::vector<std::string>& keys) const {
  Draw d;
  std::vector<int64_t> rows, bank_rows;
  for (size_t i = 0; i < keys.size(); ++i) {
    const int64_t r = Row(keys[i]);
    if (r >= 0) {
      rows.push_back(static_cast<int64_t>(i));
      bank_rows.push_back(r);
    }
  }
  d.rows = torch::tensor(rows, torch::kLong);
  if (rows.empty() || !neighbours_.defined() || neighbours_.size(1) == 0) {
    d.rows = torch::empty({0}, torch::kLong);
    return d;
  }
  const torch::Tensor which = torch::randint(neighbours_.size(1), {static_cast<int64_t>(rows.size())}, torch::kLong);
  const torch::Tensor picked =
      neighbours_.index_select(0, torch::tensor(bank_rows, torch::kLong)).gather(1, which.unsqueeze(1)).squeeze(1);
  const torch::Tensor on_device = picked.to(bank_image_.device());
  d.image = bank_image_.index_select(0, on_device);
  d.audio = bank_audio_.index_select(0, on_device);
  d.classes = bank_class_.index_select(0, picked);
  return d;
}

}  // namespace avsl::plugins::sslalign
