// Train-step time of the ResNet18 encoders on CPU: forward + backward + Adam update, per batch size.
// Loss = mean of the squared output (a stand-in for a method head: the time is all in the backbone).
// 2 intra-op threads (LibTorch defaults to 1 on a 2-vCPU VM whose CPUID reads as one core with SMT). One untimed
// warm-up step per configuration (oneDNN primitive creation, allocator growth). Wall time (UseRealTime); the
// counter min_step_ms is the fastest timed step, the figure least disturbed by other processes.
//   build/benchmarks/encoders_bench [--benchmark_filter=Image]
#include <torch/torch.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

#include "avsl/models/resnet.h"
#include "avsl/train/precision.h"

namespace {

using avsl::models::ResNet;
using avsl::models::ResNetInit;
using avsl::models::ResNetOptions;
using avsl::models::ResNetPool;

// AVSL_BENCH_DEVICE=cuda runs the same steps on the GPU (scripts/gpu_check.sh); the default is the CPU.
torch::Device BenchDevice() {
  const char* d = std::getenv("AVSL_BENCH_DEVICE");
  return d != nullptr && std::string(d) == "cuda" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

// `amp` = kBf16 runs the forward pass under bf16 autocast, as the trainer's `amp = "bf16"` does.
void TrainSteps(benchmark::State& state, ResNetOptions options, torch::IntArrayRef input_chw,
                avsl::train::Amp amp = avsl::train::Amp::kNone) {
  torch::set_num_threads(2);
  torch::manual_seed(0);
  const torch::Device device = BenchDevice();
  if (device.is_cuda() && !torch::cuda::is_available()) {
    state.SkipWithError("AVSL_BENCH_DEVICE=cuda but LibTorch sees no CUDA device");
    return;
  }
  const int64_t batch = state.range(0);
  ResNet net(std::move(options));
  net.to(device);
  net.train();
  torch::optim::Adam opt(net.parameters(), torch::optim::AdamOptions(1e-4));
  std::vector<int64_t> shape = {batch};
  shape.insert(shape.end(), input_chw.begin(), input_chw.end());
  torch::Tensor x = torch::randn(shape).to(device);
  auto step = [&] {
    opt.zero_grad();
    torch::Tensor loss;
    {
      avsl::train::AutocastScope autocast(amp, device);
      loss = net.Forward(x).pow(2).mean();
    }
    loss.backward();
    opt.step();
    return loss.item<float>();
  };
  step();  // warm-up
  // The shortest step is reported too: on a shared 2-core machine the mean mostly measures the neighbours.
  double min_ms = 1e300;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(step());
    min_ms = std::min(min_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  state.counters["min_step_ms"] = min_ms;
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(batch * state.iterations()),
                                                   benchmark::Counter::kIsRate);
  state.counters["params_M"] = [&] {
    double n = 0;
    for (const auto& p : net.parameters()) n += p.numel();
    return n / 1e6;
  }();
}

ResNetOptions Image(int64_t width) {
  ResNetOptions o;
  o.width = width;
  return o;
}

ResNetOptions Audio(int64_t width) {
  ResNetOptions o;
  o.in_channels = 1;
  o.width = width;
  o.pool = ResNetPool::kMax;
  o.init = ResNetInit::kReference;
  return o;
}

// ResNet18 (width 64), 3x224x224: the EZ-VSL/SLAVC image encoder (7x7 map).
void BM_ImageW64_224(benchmark::State& s) { TrainSteps(s, Image(64), {3, 224, 224}); }
// Same weights' shapes with layer4 stride 1 (LVS family, 14x14 map): layer4 costs 4x.
void BM_ImageW64_224_Stride1(benchmark::State& s) {
  ResNetOptions o = Image(64);
  o.layer4_stride = 1;
  TrainSteps(s, o, {3, 224, 224});
}
// Small CPU configuration: width 16 (1/16 of the FLOPs per pixel) at 64x64.
void BM_ImageW16_64(benchmark::State& s) { TrainSteps(s, Image(16), {3, 64, 64}); }
// Audio encoder on the EZ-VSL spectrogram, 1x257x200 (3 s at 16 kHz).
void BM_AudioW64_257x200(benchmark::State& s) { TrainSteps(s, Audio(64), {1, 257, 200}); }
void BM_AudioW16_257x200(benchmark::State& s) { TrainSteps(s, Audio(16), {1, 257, 200}); }

// Large configurations run a fixed 5 timed steps (one step of width 64 at batch 32 takes seconds).
BENCHMARK(BM_ImageW64_224)->Arg(8)->Arg(32)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImageW64_224_Stride1)->Arg(8)->Arg(32)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ImageW16_64)->Arg(8)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AudioW64_257x200)->Arg(8)->Arg(32)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_AudioW16_257x200)->Arg(8)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

// The GPU set of scripts/gpu_check.sh: the ResNet18 image step at the reference batch size, fp32 and bf16 autocast.
// Registered only with AVSL_BENCH_DEVICE=cuda: one batch-128 step at 224 px takes tens of seconds on 2 CPU cores.
void BM_ImageW64_224_Fp32(benchmark::State& s) { TrainSteps(s, Image(64), {3, 224, 224}); }
void BM_ImageW64_224_Bf16(benchmark::State& s) { TrainSteps(s, Image(64), {3, 224, 224}, avsl::train::Amp::kBf16); }

}  // namespace

int main(int argc, char** argv) {
  if (BenchDevice().is_cuda()) {
    for (auto* fn : {&BM_ImageW64_224_Fp32, &BM_ImageW64_224_Bf16}) {
      const char* name = fn == &BM_ImageW64_224_Fp32 ? "BM_GpuImageW64_224_Fp32" : "BM_GpuImageW64_224_Bf16";
      benchmark::RegisterBenchmark(name, fn)->Arg(128)->Iterations(10)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
