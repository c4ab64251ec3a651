#include "avsl/dist/gradient_sync.h"

#include <torch/torch.h>

#include <chrono>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace avsl::dist {

struct GradientSync::Impl {
  struct Slot {
    at::Tensor param;
    size_t bucket = 0;
    int64_t offset = 0;  ///< of its gradient in the bucket's buffer
    int64_t flag = 0;    ///< position of its used-flag in the buffer
  };
  struct Bucket {
    at::Tensor buffer;       ///< gradients, then one used-flag per parameter
    int64_t grad_numel = 0;  ///< where the flags start
    size_t params = 0;
    size_t seen = 0;  ///< gradients received in this backward pass
    std::unique_ptr<Communicator::Pending> pending;
  };

  Communicator* comm = nullptr;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::mutex mutex;  // autograd may call hooks from its device threads
  bool armed = false;
  size_t next_to_start = 0;
  double wait_seconds = 0;

  // Starts every ready bucket that all earlier buckets precede (caller holds the mutex).
  void StartReady(bool all) {
    while (next_to_start < buckets.size() && (all || buckets[next_to_start].seen == buckets[next_to_start].params)) {
      Bucket& b = buckets[next_to_start++];
      b.pending = comm->StartAllReduceSum(b.buffer);
    }
  }

  void OnGradient(size_t slot, const at::Tensor& grad) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed) return;
    const Slot& s = slots[slot];
    Bucket& b = buckets[s.bucket];
    torch::NoGradGuard no_grad;
    b.buffer.narrow(0, s.offset, grad.numel()).copy_(grad.detach().reshape({-1}));
    b.buffer.narrow(0, s.flag, 1).fill_(1);
    ++b.seen;
    StartReady(false);
  }
};

GradientSync::GradientSync(const std::vector<at::Tensor>& params, Communicator* comm, size_t bucket_bytes)
    : impl_(std::make_shared<Impl>()) {
  impl_->comm = comm;
  // Reverse order; a new bucket when the size cap is reached or the dtype/device changes.
  std::vector<std::vector<size_t>> groups;
  size_t bytes = 0;
  for (size_t k = params.size(); k-- > 0;) {
    const at::Tensor& p = params[k];
    if (!p.requires_grad()) continue;
    const bool fresh = groups.empty() || bytes >= bucket_bytes ||
                       params[groups.back().front()].scalar_type() != p.scalar_type() ||
                       params[groups.back().front()].device() != p.device();
    if (fresh) {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(k);
    bytes += static_cast<size_t>(p.numel()) * p.element_size();
  }
  for (const std::vector<size_t>& group : groups) {
    Impl::Bucket bucket;
    int64_t numel = 0;
    for (size_t k : group) numel += params[k].numel();
    int64_t flag = numel;
    int64_t offset = 0;
    for (size_t k : group) {
      impl_->slots.push_back({params[k], impl_->buckets.size(), offset, flag++});
      offset += params[k].numel();
    }
    bucket.buffer = torch::zeros({flag}, params[group.front()].options().requires_grad(false));
    bucket.grad_numel = numel;
    bucket.params = group.size();
    impl_->buckets.push_back(std::move(bucket));
  }
  std::weak_ptr<Impl> weak = impl_;
  for (size_t s = 0; s < impl_->slots.size(); ++s) {
    // A leaf's hook runs once per backward with the gradient summed over all its uses.
    impl_->slots[s].param.register_hook([weak, s](const at::Tensor& grad) {
      if (std::shared_ptr<Impl> impl = weak.lock()) impl->OnGradient(s, grad);
      return at::Tensor();
    });
  }
}

GradientSync::~GradientSync() = default;

size_t GradientSync::bucket_count() const { return impl_->buckets.size(); }

void GradientSync::BeforeBackward() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (Impl::Bucket& b : impl_->buckets) {
    b.buffer.zero_();
    b.seen = 0;
    b.pending.reset();
  }
  impl_->next_to_start = 0;
  impl_->armed = true;
}

double GradientSync::last_wait_seconds() const { return impl_->wait_seconds; }

absl::Status GradientSync::Finish() {
  const auto start = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->armed = false;
    impl_->StartReady(true);
  }
  absl::Status status;
  for (size_t i = 0; i < impl_->buckets.size(); ++i) {
    Impl::Bucket& b = impl_->buckets[i];
    absl::Status s = impl_->comm->Wait(
        *b.pending, absl::StrCat("the gradient all-reduce (bucket ", i + 1, " of ", impl_->buckets.size(), ")"));
    if (status.ok()) status = s;
  }
  impl_->wait_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!status.ok()) return status;
  const double world = impl_->comm->world_size();
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> used;  // per bucket, on the CPU: one transfer per bucket, not one per parameter
  for (const Impl::Bucket& b : impl_->buckets) {
    used.push_back(b.buffer.narrow(0, b.grad_numel, static_cast<int64_t>(b.params)).to(torch::kCPU, torch::kDouble));
  }
  for (const Impl::Slot& s : impl_->slots) {
    const Impl::Bucket& b = impl_->buckets[s.bucket];
    if (used[s.bucket].data_ptr<double>()[s.flag - b.grad_numel] == 0) continue;  // no rank used it: as in one process
    at::Tensor& grad = s.param.mutable_grad();
    if (!grad.defined()) grad = torch::zeros_like(s.param);
    grad.copy_(b.buffer.narrow(0, s.offset, s.param.numel()).view_as(s.param)).div_(world);
  }
  return absl::OkStatus();
}

}  // namespace avsl::dist
