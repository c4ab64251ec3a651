#include "avsl/core/rank_group.h"

namespace avsl {
namespace {

// Per thread: the trainer's step runs the method on its own thread, and a scope must not leak into another
// thread's evaluation.
thread_local RankGroup* negatives_group = nullptr;
thread_local RankGroup* batch_norm_group = nullptr;
thread_local DataParallelStepScope* current_scope = nullptr;

}  // namespace

RankGroup::~RankGroup() = default;

DataParallelStepScope::DataParallelStepScope(RankGroup* negatives, RankGroup* batch_norm)
    : previous_negatives_(negatives_group), previous_batch_norm_(batch_norm_group), previous_scope_(current_scope) {
  negatives_group = negatives;
  batch_norm_group = batch_norm;
  current_scope = this;
}

DataParallelStepScope::~DataParallelStepScope() {
  negatives_group = previous_negatives_;
  batch_norm_group = previous_batch_norm_;
  current_scope = previous_scope_;
}

RankGroup* BatchNormRankGroup() { return batch_norm_group; }

uint64_t SampleKeyHash(const std::string& key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return h == 0 ? 1 : h;  // 0 stays free for "no key"
}

GatheredRows GatherNegatives(const at::Tensor& local) {
  if (negatives_group == nullptr) return {local, 0, false};
  GatheredRows rows = negatives_group->AllGather(local);
  if (current_scope != nullptr) ++current_scope->negatives_gathered_;
  return rows;
}

}  // namespace avsl
