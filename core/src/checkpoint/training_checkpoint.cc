#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "avsl/checkpoint/training_checkpoint.h"
#include "avsl/checkpoint/zip_reader.h"
#include "avsl/io/atomic_file.h"

namespace avsl::checkpoint {
namespace {

constexpr const char* kFormat = "avsl-checkpoint-1";

// TorchScript attribute names may not contain '.', so tensors are stored by index under a prefix and their
// dotted names are kept in one string.
void WriteNamed(torch::serialize::OutputArchive& archive, const std::string& prefix, const torch::nn::Module& m) {
  std::vector<std::string> names;
  size_t i = 0;
  for (const auto& p : m.named_parameters(true)) {
    archive.write(absl::StrCat(prefix, "_", i++), p.value().detach().cpu(), /*is_buffer=*/true);
    names.push_back(p.key());
  }
  for (const auto& b : m.named_buffers(true)) {
    archive.write(absl::StrCat(prefix, "_", i++), b.value().detach().cpu(), /*is_buffer=*/true);
    names.push_back(b.key());
  }
  archive.write(prefix + "_names", c10::IValue(absl::StrJoin(names, "\n")));
}

absl::Status ReadNamed(torch::serialize::InputArchive& archive, const std::string& prefix, torch::nn::Module& m,
                       const std::string& path) {
  c10::IValue names_value;
  if (!archive.try_read(prefix + "_names", names_value) || !names_value.isString()) {
    return absl::DataLossError(absl::StrCat(path, ": no '", prefix, "' tensors (not an avsl checkpoint?)"));
  }
  std::map<std::string, torch::Tensor> stored;
  const std::string joined = names_value.toStringRef();
  std::vector<std::string> names = joined.empty() ? std::vector<std::string>{} : absl::StrSplit(joined, '\n');
  for (size_t i = 0; i < names.size(); ++i) {
    torch::Tensor t;
    archive.read(absl::StrCat(prefix, "_", i), t, /*is_buffer=*/true);
    stored[names[i]] = t;
  }
  std::vector<std::string> missing, shape;
  torch::NoGradGuard no_grad;
  auto restore = [&](const std::string& name, torch::Tensor& target) {
    auto it = stored.find(name);
    if (it == stored.end()) {
      missing.push_back(name);
      return;
    }
    if (it->second.sizes() != target.sizes()) {
      shape.push_back(
          absl::StrCat(name, " (checkpoint ", c10::str(it->second.sizes()), ", model ", c10::str(target.sizes()), ")"));
    } else {
      target.copy_(it->second);
    }
    stored.erase(it);
  };
  for (auto& p : m.named_parameters(true)) restore(p.key(), p.value());
  for (auto& b : m.named_buffers(true)) restore(b.key(), b.value());
  if (!missing.empty() || !shape.empty() || !stored.empty()) {
    std::vector<std::string> unexpected;
    for (const auto& [k, v] : stored) unexpected.push_back(k);
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": checkpoint does not match the model built from the recipe (", prefix, "): missing keys [",
                     absl::StrJoin(missing, ", "), "], unexpected keys [", absl::StrJoin(unexpected, ", "),
                     "], shape conflicts [", absl::StrJoin(shape, "; "), "]"));
  }
  return absl::OkStatus();
}

// LibTorch's archive reader does not check the zip CRC-32s of STORED records: a flipped byte in a tensor record
// would load, and a damaged model would be evaluated or trained on silently. Every STORED record (tensor data,
// data.pkl, version) is checked first with avsl's own reader, whose error names the file and the record; the
// deflated TorchScript code records some archives hold are left to LibTorch, which inflates them.
absl::Status VerifyRecords(const std::string& path) {
  absl::StatusOr<ZipReader> zip = ZipReader::Open(path);
  if (!zip.ok()) return zip.status();
  for (const std::string& name : zip->names()) {
    if (!zip->Readable(name)) continue;
    absl::StatusOr<absl::string_view> bytes = zip->Read(name, /*verify_crc=*/true);
    if (!bytes.ok()) return bytes.status();
  }
  return absl::OkStatus();
}

template <class F>
absl::Status Guard(const std::string& what, const std::string& path, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(what, " ", path, ": ", e.what()));
  }
}

}  // namespace

std::string TrainState::ToJson() const {
  nlohmann::json j = {
      {"epoch", epoch},           {"batch_in_epoch", batch_in_epoch}, {"samples_in_epoch", samples_in_epoch},
      {"world_size", world_size}, {"global_step", global_step},       {"monitor", monitor},
      {"best_value", best_value}, {"best_epoch", best_epoch},         {"finished", finished}};
  return j.dump(2);
}

absl::StatusOr<TrainState> TrainState::FromJson(const std::string& text) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    TrainState s;
    s.epoch = j.at("epoch");
    s.batch_in_epoch = j.at("batch_in_epoch");
    s.samples_in_epoch = j.value("samples_in_epoch", -1LL);
    s.world_size = j.value("world_size", 1LL);
    s.global_step = j.at("global_step");
    s.monitor = j.at("monitor");
    s.best_value = j.at("best_value");
    s.best_epoch = j.at("best_epoch");
    s.finished = j.at("finished");
    return s;
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("malformed train state: ", e.what()));
  }
}

absl::Status SaveCheckpoint(const std::string& path, const CheckpointContents& c) {
  return Guard("cannot save checkpoint", path, [&]() -> absl::Status {
    torch::serialize::OutputArchive archive;
    archive.write("format", c10::IValue(std::string(kFormat)));
    WriteNamed(archive, "model", *c.method);
    for (size_t i = 0; i < c.losses.size(); ++i) WriteNamed(archive, absl::StrCat("loss", i), *c.losses[i]);
    if (c.optimizer != nullptr) {
      torch::serialize::OutputArchive optimizer;
      c.optimizer->save(optimizer);
      archive.write("optimizer", optimizer);
    }
    archive.write("train_state", c10::IValue(c.state.ToJson()));
    archive.write("recipe", c10::IValue(c.recipe_toml));
    {
      at::Generator gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      archive.write("rng_cpu", gen.get_state(), /*is_buffer=*/true);
    }
    // Written through a function of ours rather than save_to(path): LibTorch's file writer throws on a failed write,
    // and its destructor then writes the archive's end, fails again and throws out of a destructor, which ends the
    // process (a full disk killed the run). Here the first failure is remembered and the rest of the archive
    // discarded, so the writer finishes quietly and the error is returned.
    const std::string tmp = io::TemporaryPathFor(path);
    std::FILE* file = std::fopen(tmp.c_str(), "wb");
    if (file == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("cannot save checkpoint ", path, ": cannot create ", tmp, ": ", std::strerror(errno)));
    }
    int write_errno = 0;
    try {
      archive.save_to([&](const void* data, size_t size) -> size_t {
        if (write_errno == 0 && size > 0 && std::fwrite(data, 1, size, file) != size) write_errno = errno ? errno : EIO;
        return size;
      });
    } catch (...) {
      std::fclose(file);
      std::remove(tmp.c_str());
      throw;
    }
    if (std::fclose(file) != 0 && write_errno == 0) write_errno = errno ? errno : EIO;
    if (write_errno != 0) {
      std::remove(tmp.c_str());  // a partial file would only hold the space that the next try needs
      std::error_code ec;
      const std::filesystem::space_info space = std::filesystem::space(std::filesystem::path(path).parent_path(), ec);
      return absl::UnavailableError(
          absl::StrCat("cannot save checkpoint ", path, ": writing ", tmp, " failed: ", std::strerror(write_errno),
                       ec ? std::string() : absl::StrCat(" (", space.available, " bytes free on its file system)"),
                       std::filesystem::exists(path) ? "; the previous file is unchanged" : ""));
    }
    return io::CommitTemporaryFile(tmp, path);
  });
}

absl::Status LoadCheckpoint(const std::string& path, CheckpointContents& c) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("checkpoint not found: ", path));
  if (absl::Status s = VerifyRecords(path); !s.ok()) return s;
  return Guard("cannot load checkpoint", path, [&]() -> absl::Status {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue format;
    if (!archive.try_read("format", format) || !format.isString() || format.toStringRef() != kFormat) {
      return absl::DataLossError(
          absl::StrCat(path, " is not an avsl training checkpoint (expected format ", kFormat, ")"));
    }
    absl::Status s = ReadNamed(archive, "model", *c.method, path);
    if (!s.ok()) return s;
    for (size_t i = 0; i < c.losses.size(); ++i) {
      s = ReadNamed(archive, absl::StrCat("loss", i), *c.losses[i], path);
      if (!s.ok()) return s;
    }
    if (c.optimizer != nullptr) {
      torch::serialize::InputArchive optimizer;
      if (!archive.try_read("optimizer", optimizer)) {
        return absl::DataLossError(absl::StrCat(path, ": holds no optimizer state (weights-only file?)"));
      }
      c.optimizer->load(optimizer);
    }
    c10::IValue state, recipe;
    archive.read("train_state", state);
    archive.read("recipe", recipe);
    absl::StatusOr<TrainState> parsed = TrainState::FromJson(state.toStringRef());
    if (!parsed.ok()) return absl::DataLossError(absl::StrCat(path, ": ", parsed.status().message()));
    c.state = *parsed;
    c.recipe_toml = recipe.toStringRef();
    torch::Tensor rng;
    archive.read("rng_cpu", rng, /*is_buffer=*/true);
    at::Generator gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(rng);
    return absl::OkStatus();
  });
}

absl::Status LoadMethodWeights(const std::string& path, Method& method) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("checkpoint not found: ", path));
  if (absl::Status s = VerifyRecords(path); !s.ok()) return s;
  return Guard("cannot load weights from", path, [&]() -> absl::Status {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    return ReadNamed(archive, "model", method, path);
  });
}

absl::StatusOr<std::string> ReadCheckpointRecipe(const std::string& path) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("checkpoint not found: ", path));
  if (absl::Status verified = VerifyRecords(path); !verified.ok()) return verified;
  std::string recipe;
  absl::Status s = Guard("cannot read", path, [&]() -> absl::Status {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue value;
    if (!archive.try_read("recipe", value) || !value.isString()) {
      return absl::DataLossError(absl::StrCat(path, " holds no recipe (not an avsl checkpoint?)"));
    }
    recipe = value.toStringRef();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return recipe;
}

}  // namespace avsl::checkpoint
