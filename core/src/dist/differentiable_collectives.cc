#include "avsl/dist/differentiable_collectives.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

namespace avsl::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

Communicator* CommOf(AutogradContext* ctx) { return reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt()); }

// The dtype a collective runs in: Gloo reduces no bfloat16, and half sums lose too much; float and double as they are.
c10::ScalarType WireType(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf ? torch::kFloat : t.scalar_type();
}

// The sum over the ranks of `t` (any dtype), returned in t's dtype; throws naming the lost rank.
torch::Tensor SumOverRanks(Communicator* comm, const torch::Tensor& t, const char* what) {
  torch::Tensor buffer = t.detach().to(WireType(t)).contiguous().clone();
  if (absl::Status s = comm->AllReduceSum(buffer, what, Communicator::Channel::kStep); !s.ok()) {
    throw std::runtime_error(s.ToString());
  }
  return buffer.to(t.scalar_type());
}

// all = cat over ranks of local; d local = (Σ_ranks d all)[this rank's rows].
struct GatherRowsFunction : public torch::autograd::Function<GatherRowsFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor local, Communicator* comm, int64_t* offset_out) {
    absl::StatusOr<Communicator::Rows> rows = comm->AllGatherRows(
        local.detach().to(WireType(local)), "the all-gather of a method's rows (in-batch negatives, epoch-end state)",
        Communicator::Channel::kStep);
    if (!rows.ok()) throw std::runtime_error(rows.status().ToString());
    int64_t offset = 0;
    for (int r = 0; r < comm->rank(); ++r) offset += rows->counts[static_cast<size_t>(r)];
    *offset_out = offset;
    ctx->saved_data["comm"] = reinterpret_cast<int64_t>(comm);
    ctx->saved_data["offset"] = offset;
    ctx->saved_data["rows"] = local.size(0);
    return rows->all.to(local.scalar_type());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor summed = SumOverRanks(CommOf(ctx), grads[0], "the backward all-reduce of in-batch negatives");
    const torch::Tensor mine = summed.narrow(0, ctx->saved_data["offset"].toInt(), ctx->saved_data["rows"].toInt());
    return {mine, torch::Tensor(), torch::Tensor()};
  }
};

// out = Σ_ranks local; d local = Σ_ranks d out.
struct SumOverRanksFunction : public torch::autograd::Function<SumOverRanksFunction> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor local, Communicator* comm) {
    ctx->saved_data["comm"] = reinterpret_cast<int64_t>(comm);
    return SumOverRanks(comm, local, "the all-reduce of batch statistics (train.sync_bn)");
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {SumOverRanks(CommOf(ctx), grads[0], "the backward all-reduce of batch statistics (train.sync_bn)"),
            torch::Tensor()};
  }
};

class CommunicatorRankGroup final : public RankGroup {
 public:
  explicit CommunicatorRankGroup(Communicator* comm) : comm_(comm) {}
  int rank() const override { return comm_->rank(); }
  int world_size() const override { return comm_->world_size(); }
  GatheredRows AllGather(const at::Tensor& local) override {
    int64_t offset = 0;
    torch::Tensor all = GatherRowsFunction::apply(local, comm_, &offset);
    return {all, offset, true};
  }
  at::Tensor AllReduceSum(const at::Tensor& local) override { return SumOverRanksFunction::apply(local, comm_); }

 private:
  Communicator* comm_;
};

}  // namespace

std::unique_ptr<RankGroup> MakeRankGroup(Communicator* comm) { return std::make_unique<CommunicatorRankGroup>(comm); }

}  // namespace avsl::dist
