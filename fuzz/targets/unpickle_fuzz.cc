// The pickle VM of checkpoint loading (avsl/checkpoint/unpickler.h), with the allow-list on as every load has it:
// whatever the bytes, a successful result holds no instance of a class outside the allow-list.
#include <cstdlib>
#include <set>
#include <string>

#include "absl/strings/string_view.h"
#include "avsl/checkpoint/unpickler.h"
#include "fuzz_target.h"

namespace {

using avsl::checkpoint::Value;

// Aborts (a finding) on an object node; memo sharing makes the tree a graph, so each node is visited once.
void CheckAllowList(const avsl::checkpoint::ValuePtr& v, std::set<const Value*>& seen) {
  if (v == nullptr || !seen.insert(v.get()).second) return;
  if (v->kind == Value::Kind::kObject) std::abort();
  if (v->kind == Value::Kind::kTensor && v->tensor != nullptr && v->tensor->storage != nullptr) {
    (void)v->tensor->CheckBounds();
  }
  for (const auto& item : v->items) CheckAllowList(item, seen);
  for (const auto& [key, value] : v->entries) {
    CheckAllowList(key, seen);
    CheckAllowList(value, seen);
  }
  CheckAllowList(v->state, seen);
}

}  // namespace

AVSL_FUZZ_TARGET(unpickle) {
  auto value = avsl::checkpoint::Unpickle(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (value.ok()) {
    std::set<const Value*> seen;
    CheckAllowList(*value, seen);
  }
  return 0;
}
