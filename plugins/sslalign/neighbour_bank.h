// sslalign's feature bank: the nearest-neighbour positives of the cross-modal alignment method. During an epoch the
// step records each training sample's (detached) global image embedding and audio embedding under its key; at the
// epoch's end (TrainEvent kEpochEnd) the records become the bank. In the next epoch a step retrieves, for each sample
// of its batch, the k bank entries nearest to the sample's *current* embeddings (the sum of the image and the audio
// cosine; the bank entry of the sample's own key excluded), draws one of them uniformly and uses its embeddings as a
// positive. Retrieval is by the current embedding, not by the key's neighbours of the previous epoch, because a key
// need not name the same content in two epochs (the synthetic benchmark draws a fresh scene per key and epoch) and a
// data-parallel rank sees a different share of the keys each epoch.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/types.h>

#include "avsl/core/rank_group.h"

namespace avsl::plugins::sslalign {

class NeighbourBank {
 public:
  /// Records this epoch's embeddings [B,C] of the samples `keys` (L2-normalized; stored detached, on their device),
  /// and their classes [B] when known (undefined or -1: unknown; used only to report how often a drawn neighbour
  /// shares the sample's class). A key recorded twice keeps its last record.
  void Record(const std::vector<std::string>& keys, const torch::Tensor& image, const torch::Tensor& audio,
              const torch::Tensor& classes = {});

  /// Ends the epoch: the records become the bank (the previous bank is dropped) and recording starts afresh. In a
  /// data-parallel run (`ranks`, TrainEvent::ranks) every rank's records are gathered first, in rank order, one row
  /// per key (the first copy: the sampler's padding repeats a few samples on a second rank), so every rank's bank
  /// holds the whole epoch, as one process's does.
  void Refresh(RankGroup* ranks = nullptr);

  struct Draw {
    torch::Tensor image, audio;  ///< [B,C]: the drawn neighbour's bank embeddings
    torch::Tensor classes;       ///< [B] long (CPU): the drawn neighbour's class, -1 when unknown
  };
  /// For each row of the batch (`keys`, current embeddings `image` and `audio` [B,C], L2-normalized), one of the `k`
  /// bank entries nearest by <g, g_j> + <a, a_j>, drawn uniformly (torch's default generator); the entry recorded
  /// under the row's own key is never drawn. k is clamped to the entries left. `drawn` is false (and `out` is left
  /// empty) when the bank has no entry to draw for some row.
  bool DrawNeighbours(const std::vector<std::string>& keys, const torch::Tensor& image, const torch::Tensor& audio,
                      int64_t k, Draw* out) const;

  int64_t size() const { return bank_image_.defined() ? bank_image_.size(0) : 0; }
  int64_t recorded() const { return static_cast<int64_t>(record_index_.size()); }
  /// The bank row of a key (-1: absent).
  int64_t Row(const std::string& key) const;

 private:
  std::unordered_map<std::string, int64_t> record_index_;
  std::vector<torch::Tensor> record_image_, record_audio_;  // one [C] row per key
  std::vector<int64_t> record_class_;
  std::unordered_map<uint64_t, int64_t> bank_index_;  ///< SampleKeyHash(key) -> row: keys travel as hashes
  int64_t image_dim_ = 0, audio_dim_ = 0;             ///< of the embeddings recorded so far (an empty rank's rows)
  torch::Device device_ = torch::kCPU;                ///< where they were recorded: the gathered bank goes there
  torch::Tensor bank_image_, bank_audio_, bank_class_;
};

}  // namespace avsl::plugins::sslalign
