// A whole torch.save file as `avsl eval`, --resume and --init-from open it (avsl/checkpoint/checkpoint_archive.h):
// zip, data.pkl through the allow-listed unpickler, then the bytes of every storage the pickle names, which must
// lie inside their records.
#include <set>

#include "avsl/checkpoint/checkpoint_archive.h"
#include "fuzz_file.h"
#include "fuzz_target.h"

namespace {

using avsl::checkpoint::Value;

void ReadStorages(const avsl::checkpoint::CheckpointArchive& archive, const avsl::checkpoint::ValuePtr& v,
                  std::set<const Value*>& seen) {
  if (v == nullptr || !seen.insert(v.get()).second) return;
  if (v->kind == Value::Kind::kStorage && v->storage != nullptr) (void)archive.StorageBytes(*v->storage);
  if (v->kind == Value::Kind::kTensor && v->tensor != nullptr && v->tensor->storage != nullptr) {
    (void)archive.StorageBytes(*v->tensor->storage);
  }
  for (const auto& item : v->items) ReadStorages(archive, item, seen);
  for (const auto& [key, value] : v->entries) {
    ReadStorages(archive, key, seen);
    ReadStorages(archive, value, seen);
  }
  ReadStorages(archive, v->state, seen);
}

}  // namespace

AVSL_FUZZ_TARGET(checkpoint) {
  const std::string path = avsl::fuzz::WriteInput(data, size, ".pt");
  auto archive = avsl::checkpoint::CheckpointArchive::Open(path);
  if (!archive.ok()) return 0;
  std::set<const Value*> seen;
  ReadStorages(*archive, archive->root(), seen);
  return 0;
}
