#include "avsl/dist/communicator.h"

// ProcessGroupGloo.hpp declares the group only under this define, which LibTorch's own build sets.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include "dist/nccl_group.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "avsl/core/status_macros.h"

namespace avsl::dist {
namespace {

constexpr auto kHeartbeatPeriod = std::chrono::milliseconds(1000);
// Long enough for a loaded machine to miss no beat, short enough to name the lost rank soon after a failure.
constexpr auto kHeartbeatWindow = std::chrono::milliseconds(2500);

std::string HeartbeatKey(int rank) { return absl::StrCat("avsl/heartbeat/", rank); }

std::vector<uint8_t> Bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }
std::string Text(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

// `join`: the rank's own client, counted by the server, which waits for all of them (as torch.distributed's
// TCPStore(wait_for_workers=True)); a client that does not join must not be counted, or the server would wait for
// the timeout.
c10::intrusive_ptr<c10d::TCPStore> MakeStore(const LaunchEnv& env, bool server, std::chrono::milliseconds timeout,
                                             bool join = false) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = server;
  options.numWorkers = static_cast<std::size_t>(env.world_size);
  options.waitWorkers = join;
  options.timeout = timeout;
  return c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
}

std::string WhatOf(const std::exception& e) {
  // c10::Error's what() carries a backtrace after the first line; the first line is the message.
  std::string text = e.what();
  const size_t newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

}  // namespace

using internal::CollectiveGroup;

struct Communicator::Impl {
  LaunchEnv env;
  std::chrono::milliseconds timeout{0};
  int cuda_device = -1;
  c10::intrusive_ptr<c10d::TCPStore> store;
  // Gloo carries CPU tensors (the step status, evaluation records) and, in a build without NCCL, CUDA ones through
  // the host; NCCL, where built, carries CUDA tensors (as torch.distributed's "nccl" backend, with a Gloo group
  // beside it for CPU objects).
  c10::intrusive_ptr<CollectiveGroup> group;
  c10::intrusive_ptr<CollectiveGroup> step_group;  ///< Channel::kStep, once opened
  // One NCCL group serves both channels, as DDP and SyncBatchNorm share the default group: NCCL communicators used
  // concurrently can deadlock, and the step's collectives and the gradient buckets are issued by the one autograd
  // thread in graph order, the same on every rank.
  c10::intrusive_ptr<CollectiveGroup> nccl_group;

  // The group of `channel` that carries `tensor`: the choice depends only on the device, so every rank (same
  // devices, same call order) pairs the same calls on the same group.
  CollectiveGroup& GroupFor(Channel channel, const at::Tensor& tensor) {
    if (tensor.is_cuda() && nccl_group) return *nccl_group;
    if (channel == Channel::kStep) {
      TORCH_CHECK(step_group, "avsl::dist::Communicator: the step channel was not opened (OpenStepChannel)");
      return *step_group;
    }
    return *group;
  }
  // The NCCL group of every rank on `cuda_device`, under its own prefix of the store (Gloo's keys and NCCL's never
  // meet); none in a build without NCCL.
  c10::intrusive_ptr<CollectiveGroup> MakeCudaGroup() const {
#ifdef AVSL_WITH_NCCL
    return internal::MakeNcclGroup(c10::make_intrusive<c10d::PrefixStore>("avsl/nccl", store), env.rank, env.world_size,
                                   timeout, cuda_device);
#else
    return {};
#endif
  }
  // A Gloo group of every rank on `store`, over loopback when the job is on one machine.
  c10::intrusive_ptr<CollectiveGroup> MakeGroup(const c10::intrusive_ptr<c10d::Store>& on) const {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    // Rank 0's address is one this host reaches the others by only when they share it (one machine); otherwise
    // Gloo picks the interface of this host's name, as torch.distributed does.
    const bool loopback = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
    options->devices.push_back(loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                        : c10d::ProcessGroupGloo::createDefaultDevice());
    return c10::make_intrusive<c10d::ProcessGroupGloo>(on, env.rank, env.world_size, options);
  }

  // The heartbeat: its own store client (a client is one socket, not shared across threads).
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable cv;
  bool stopping = false;

  void Beat() {
    c10::intrusive_ptr<c10d::TCPStore> client;
    try {
      client = MakeStore(env, false, timeout);
    } catch (const std::exception&) {
      return;  // the main thread's collectives report the unreachable store
    }
    long long count = 0;
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      lock.unlock();
      try {
        client->set(HeartbeatKey(env.rank), Bytes(std::to_string(++count)));
      } catch (const std::exception&) {
        return;  // the store (rank 0) is gone; the next collective reports it
      }
      lock.lock();
      cv.wait_for(lock, kHeartbeatPeriod, [this] { return stopping; });
    }
  }
};

struct Communicator::Pending::Work {
  c10::intrusive_ptr<c10d::Work> work;
};
Communicator::Pending::Pending() = default;
Communicator::Pending::~Pending() = default;

Communicator::Communicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Communicator::~Communicator() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->heartbeat.joinable()) impl_->heartbeat.join();
#ifdef AVSL_WITH_NCCL
  if (impl_->nccl_group) internal::ShutdownNcclGroup(*impl_->nccl_group);
#endif
}

absl::StatusOr<std::unique_ptr<Communicator>> Communicator::Connect(const LaunchEnv& env,
                                                                    std::chrono::milliseconds timeout, bool cuda) {
  auto impl = std::make_unique<Impl>();
  impl->env = env;
  impl->timeout = timeout;
  const std::string where = absl::StrCat(env.master_addr, ":", env.master_port);
  try {
    impl->store = MakeStore(env, env.rank == 0, timeout, /*join=*/true);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        "rank ", env.rank, ": cannot ", env.rank == 0 ? "serve" : "reach", " the rendezvous store at ", where,
        " within ", timeout.count() / 1000.0, " s (train.dist_timeout_s): ", WhatOf(e),
        env.rank == 0 ? "; is the port in use?" : "; is rank 0 running, and MASTER_ADDR/MASTER_PORT right?"));
  }
  try {
    impl->group = impl->MakeGroup(impl->store);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("rank ", env.rank, ": the Gloo process group of ", env.world_size,
                                               " ranks did not form within ", timeout.count() / 1000.0,
                                               " s (train.dist_timeout_s) through ", where, ": ", WhatOf(e)));
  }
  Impl* raw = impl.get();
  impl->heartbeat = std::thread([raw] { raw->Beat(); });
  std::unique_ptr<Communicator> comm(new Communicator(std::move(impl)));
  if (cuda) AVSL_RETURN_IF_ERROR(comm->JoinGpus());
  return comm;
}

absl::Status Communicator::JoinGpus() {
  const LaunchEnv& env = impl_->env;
  const int w = env.world_size;
  const int gpus = static_cast<int>(torch::cuda::device_count());
  // torchrun's convention, one GPU per local rank; a process given a single GPU of its own (SLURM's
  // --gpus-per-task, or CUDA_VISIBLE_DEVICES set per process) uses that one.
  const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
  const int device = env.local_rank < gpus ? env.local_rank : (gpus == 1 && visible != nullptr ? 0 : -1);
  // Which GPU this is, as far as the host can tell without the CUDA runtime: the host, the visible set and the
  // index. Two ranks with the same key would share one GPU.
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  const int64_t key = static_cast<int64_t>(
      std::hash<std::string>{}(absl::StrCat(host, "|", visible != nullptr ? visible : "*", "|", device)) >> 1);
  // Every rank learns which ranks have no GPU of their own before any NCCL call: NCCL's setup waits for all ranks,
  // without a timeout, so a rank that stopped on its own would leave the others waiting for ever.
  at::Tensor found = torch::zeros({4 * w}, torch::kLong);
  auto* f = found.data_ptr<int64_t>();
  f[env.rank] = device < 0 ? 1 : 0;
  f[w + env.rank] = env.local_rank;
  f[2 * w + env.rank] = gpus;
  f[3 * w + env.rank] = key;
  AVSL_RETURN_IF_ERROR(AllReduceSum(found, "the exchange of each rank's GPU"));
  f = found.data_ptr<int64_t>();
  std::vector<std::string> problems;
  for (int r = 0; r < w; ++r) {
    const std::string who = absl::StrCat("rank ", r, " (LOCAL_RANK ", f[w + r], ", ", f[2 * w + r], " CUDA device",
                                         f[2 * w + r] == 1 ? "" : "s", " visible)");
    if (f[r] != 0) problems.push_back(who + " has no GPU of its own");
    for (int q = 0; f[r] == 0 && q < r; ++q) {
      if (f[q] == 0 && f[3 * w + q] == f[3 * w + r]) {
        problems.push_back(absl::StrCat(who, " would share rank ", q, "'s GPU"));
        break;
      }
    }
  }
  if (!problems.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rank ", env.rank, ": device = \"cuda\" takes one GPU per rank, but ", absl::StrJoin(problems, "; "),
        ". Start at most as many processes per node as it has GPUs (--nproc-per-node), or give each process one GPU "
        "of its own (CUDA_VISIBLE_DEVICES)"));
  }
  impl_->cuda_device = device;
  try {
    impl_->nccl_group = impl_->MakeCudaGroup();
  } catch (const std::exception& e) {
    return Lost(absl::StrCat("making the NCCL process group on cuda:", device), WhatOf(e));
  }
  if (impl_->nccl_group) {
    // NCCL sets up its communicator at the first collective, while every rank is known to be here.
    at::Tensor one = torch::ones({1}, torch::TensorOptions().device(torch::kCUDA, device));
    AVSL_RETURN_IF_ERROR(AllReduceSum(one, "the first NCCL all-reduce (NCCL's setup)"));
  }
  return absl::OkStatus();
}

int Communicator::cuda_device() const { return impl_->cuda_device; }

absl::Status Communicator::OpenStepChannel() {
  if (impl_->step_group) return absl::OkStatus();
  try {
    impl_->step_group = impl_->MakeGroup(c10::make_intrusive<c10d::PrefixStore>("avsl/step", impl_->store));
  } catch (const std::exception& e) {
    return Lost("opening the step channel (the Gloo group of global negatives and synchronized BatchNorm)", WhatOf(e));
  }
  return absl::OkStatus();
}

int Communicator::rank() const { return impl_->env.rank; }
int Communicator::world_size() const { return impl_->env.world_size; }

std::string Communicator::transport() const {
  if (impl_->nccl_group) {
#ifdef AVSL_WITH_NCCL
    return absl::StrCat("nccl (", internal::NcclVersion(), ") for CUDA tensors, gloo for CPU tensors");
#endif
  }
  if (impl_->cuda_device >= 0) {
    return "gloo (CUDA tensors go through the host: this build has no NCCL; see docs/distributed.md)";
  }
  return "gloo";
}

absl::Status Communicator::Lost(const std::string& what, const std::string& cause) {
  const LaunchEnv& env = impl_->env;
  std::string culprit;
  try {
    auto client = MakeStore(env, false, std::chrono::milliseconds(3000));
    auto read = [&] {
      std::map<int, std::string> beats;
      for (int r = 0; r < env.world_size; ++r) {
        if (r == env.rank) continue;
        beats[r] = client->check({HeartbeatKey(r)}) ? Text(client->get(HeartbeatKey(r))) : "";
      }
      return beats;
    };
    const std::map<int, std::string> before = read();
    std::this_thread::sleep_for(kHeartbeatWindow);
    const std::map<int, std::string> after = read();
    std::vector<std::string> lost;
    for (const auto& [r, beat] : before) {
      if (after.at(r) == beat) lost.push_back(absl::StrCat(r));
    }
    culprit = lost.empty() ? "every rank still beats its heartbeat (a peer may have failed and restarted, or the "
                             "network dropped the connection)"
                           : absl::StrCat(lost.size() == 1 ? "lost rank " : "lost ranks ", absl::StrJoin(lost, ", "),
                                          " (no heartbeat for ", kHeartbeatWindow.count() / 1000.0, " s)");
  } catch (const std::exception&) {
    culprit = env.rank == 0 ? "the rendezvous store did not answer"
                            : absl::StrCat("lost rank 0 (the rendezvous store it serves at ", env.master_addr, ":",
                                           env.master_port, " does not answer)");
  }
  return absl::UnavailableError(absl::StrCat("rank ", env.rank, ": ", what, " failed: ", culprit, ": ", cause));
}

absl::Status Communicator::AllReduceSum(at::Tensor& tensor, const std::string& what, Channel channel) {
  std::unique_ptr<Pending> pending = StartAllReduceSum(tensor, channel);
  return Wait(*pending, what);
}

std::unique_ptr<Communicator::Pending> Communicator::StartAllReduceSum(at::Tensor tensor, Channel channel) {
  std::vector<at::Tensor> tensors{std::move(tensor)};
  auto pending = std::make_unique<Pending>();
  pending->work_ = std::make_unique<Pending::Work>();
  try {
    pending->work_->work = impl_->GroupFor(channel, tensors[0]).allreduce(tensors);
  } catch (const std::exception& e) {
    pending->error_ = WhatOf(e);
  }
  return pending;
}

absl::Status Communicator::Wait(Pending& pending, const std::string& what) {
  if (!pending.error_.empty()) return Lost(what, pending.error_);
  try {
    pending.work_->work->wait();
  } catch (const std::exception& e) {
    return Lost(what, WhatOf(e));
  }
  return absl::OkStatus();
}

absl::Status Communicator::Broadcast(const std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  // One flat tensor per dtype and device, in the order of first appearance: the same on every rank.
  std::vector<std::vector<at::Tensor>> groups;
  for (const at::Tensor& t : tensors) {
    auto same = [&](const std::vector<at::Tensor>& g) {
      return g.front().scalar_type() == t.scalar_type() && g.front().device() == t.device();
    };
    auto it = std::find_if(groups.begin(), groups.end(), same);
    if (it == groups.end()) {
      groups.push_back({t});
    } else {
      it->push_back(t);
    }
  }
  try {
    for (std::vector<at::Tensor>& group : groups) {
      std::vector<at::Tensor> flat_parts;
      for (const at::Tensor& t : group) flat_parts.push_back(t.detach().reshape({-1}));
      std::vector<at::Tensor> flat{torch::cat(flat_parts)};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      impl_->GroupFor(Channel::kMain, flat[0]).broadcast(flat, options)->wait();
      if (impl_->env.rank == root) continue;
      int64_t offset = 0;
      torch::NoGradGuard no_grad;
      for (at::Tensor& t : group) {
        t.detach().copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
        offset += t.numel();
      }
    }
  } catch (const std::exception& e) {
    return Lost(what, WhatOf(e));
  }
  return absl::OkStatus();
}

absl::StatusOr<Communicator::Rows> Communicator::AllGatherRows(const at::Tensor& local, const std::string& what,
                                                               Channel channel) {
  const int world = impl_->env.world_size;
  if (local.dim() < 1)
    return absl::InvalidArgumentError(absl::StrCat(what, ": expected a tensor with rows, got a scalar"));
  const int64_t rows = local.size(0);
  int64_t row_numel = 1;
  for (int64_t d : local.sizes().slice(1)) row_numel *= d;
  Rows out;
  try {
    // Shapes first (rows, numel of a row), so ranks with fewer rows pad and mismatched rows are named.
    std::vector<at::Tensor> shape{torch::tensor({rows, row_numel}, torch::kLong)};
    std::vector<std::vector<at::Tensor>> shapes(1);
    for (int r = 0; r < world; ++r) shapes[0].push_back(torch::empty({2}, torch::kLong));
    impl_->GroupFor(channel, shape[0]).allgather(shapes, shape)->wait();
    int64_t longest = 0;
    for (int r = 0; r < world; ++r) {
      const int64_t n = shapes[0][r][0].item<int64_t>(), m = shapes[0][r][1].item<int64_t>();
      if (m != row_numel) {
        return absl::InvalidArgumentError(absl::StrCat("rank ", impl_->env.rank, ": ", what, ": rank ", r,
                                                       "'s rows hold ", m, " values, this rank's ", row_numel,
                                                       " (shape ", c10::str(local.sizes()), ")"));
      }
      out.counts.push_back(n);
      longest = std::max(longest, n);
    }
    std::vector<int64_t> padded_shape = local.sizes().vec();
    padded_shape[0] = longest;
    std::vector<at::Tensor> mine{torch::zeros(padded_shape, local.options())};
    if (rows > 0) mine[0].narrow(0, 0, rows).copy_(local.detach());
    std::vector<std::vector<at::Tensor>> all(1);
    for (int r = 0; r < world; ++r) all[0].push_back(torch::empty(padded_shape, local.options()));
    if (longest > 0) impl_->GroupFor(channel, mine[0]).allgather(all, mine)->wait();
    std::vector<at::Tensor> parts;
    for (int r = 0; r < world; ++r) parts.push_back(all[0][r].narrow(0, 0, out.counts[r]));
    out.all = torch::cat(parts);
  } catch (const std::exception& e) {
    return Lost(what, WhatOf(e));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> Communicator::AllGatherBytes(const std::string& mine,
                                                                      const std::string& what) {
  // The bytes as the rows of a uint8 tensor: AllGatherRows pads to the longest and reports each rank's length.
  at::Tensor bytes = torch::empty({static_cast<int64_t>(mine.size())}, torch::kByte);
  if (!mine.empty()) std::memcpy(bytes.data_ptr<uint8_t>(), mine.data(), mine.size());
  AVSL_ASSIGN_OR_RETURN(Rows rows, AllGatherRows(bytes, what));
  std::vector<std::string> out;
  const auto* data = reinterpret_cast<const char*>(rows.all.data_ptr<uint8_t>());
  for (int64_t count : rows.counts) {
    out.emplace_back(data, static_cast<size_t>(count));
    data += count;
  }
  return out;
}

absl::StatusOr<std::string> Communicator::ShareFromRankZero(const std::string& key, const std::string& value) {
  const std::string full = "avsl/share/" + key;
  try {
    if (impl_->env.rank == 0) {
      impl_->store->set(full, Bytes(value));
      return value;
    }
    return Text(impl_->store->get(full));
  } catch (const std::exception& e) {
    return Lost(absl::StrCat("receiving '", key, "' from rank 0"), WhatOf(e));
  }
}

}  // namespace avsl::dist
