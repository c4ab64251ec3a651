// sslalign's feature bank: the nearest-neighbour positives of the cross-modal alignment method. During an epoch the
// step records each training sample's (detached) global image embedding and audio embedding under its key; at the
// epoch's end (TrainEvent kEpochEnd) the records become the bank and every sample's k nearest neighbours are
// retrieved once, by the sum of the image and the audio cosine (the sample itself excluded). In the next epoch a step
// draws one of a sample's k neighbours uniformly and uses the bank's embeddings of that neighbour as positives.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <torch/types.h>

namespace avsl::plugins::sslalign {

class NeighbourBank {
 public:
  /// Records this epoch's embeddings [B,C] of the samples `keys` (L2-normalized; stored detached, on their device),
  /// and their classes [B] when known (undefined or -1: unknown; used only to report how often a drawn neighbour
  /// shares the sample's class). A key recorded twice keeps its last record.
  void Record(const std::vector<std::string>& keys, const torch::Tensor& image, const torch::Tensor& audio,
              const torch::Tensor& classes = {});

  /// Ends the epoch: the records become the bank (the previous bank is dropped) and each entry's `k` nearest
  /// neighbours are found (k is clamped to the bank size - 1; a bank of one entry has none). The similarity matrix
  /// is computed in blocks of `block` rows, on the embeddings' device.
  void Refresh(int64_t k, int64_t block = 4096);

  struct Draw {
    torch::Tensor rows;          ///< [n] long: the batch rows whose key is in the bank
    torch::Tensor image, audio;  ///< [n,C]: the drawn neighbour's bank embeddings
    torch::Tensor classes;       ///< [n] long (CPU): the drawn neighbour's class, -1 when unknown
  };
  /// One neighbour per key of `keys` that the bank holds, uniformly among its k (torch's default generator).
  Draw DrawNeighbours(const std::vector<std::string>& keys) const;

  int64_t size() const { return bank_image_.defined() ? bank_image_.size(0) : 0; }
  int64_t recorded() const { return static_cast<int64_t>(record_index_.size()); }
  /// [N,k] the neighbours' bank rows, and the bank row of a key (-1: absent); for tests and logs.
  const torch::Tensor& neighbours() const { return neighbours_; }
  int64_t Row(const std::string& key) const;

 private:
  std::unordered_map<std::string, int64_t> record_index_;
  std::vector<torch::Tensor> record_image_, record_audio_;  // one [C] row per key
  std::vector<int64_t> record_class_;
  std::unordered_map<std::string, int64_t> bank_index_;
  torch::Tensor bank_image_, bank_audio_, bank_class_, neighbours_;
};

}  // namespace avsl::plugins::sslalign
