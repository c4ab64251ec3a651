// datasets.VggSound: VGG-Sound / VGG-SS in the EZ-VSL/SLAVC layout, GT and classes from vggss.json, with the
// train/test overlap exclusion and an optional split component (e.g. datasets.OpenSet) restricting ids by class.
#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/component_registry.h"
#include "avsl/core/split.h"
#include "avsl/core/status_macros.h"
#include "components.h"
#include "file_dataset.h"
#include "open_set.h"

namespace avsl::plugins::datasets {
namespace {

constexpr const char* kComponent = "datasets.VggSound";

absl::StatusOr<std::shared_ptr<Dataset>> MakeVggSound(const ComponentConfig& c) {
  AVSL_ASSIGN_OR_RETURN(PipelineOptions pipeline, ReadPipelineOptions(c));
  AVSL_ASSIGN_OR_RETURN(FileLists lists, ReadFileLists(c, kComponent));

  std::shared_ptr<const data::VggssIndex> index;
  std::string index_path;
  if (c.Has("annotations")) {
    index_path = ResolvePath(lists.root, c.GetString("annotations"));
    absl::StatusOr<data::VggssIndex> read = data::VggssIndex::Read(index_path, pipeline.gt_size);
    if (!read.ok())
      return Prefixed(read.status(), absl::StrCat(kComponent, " annotations ('", c.path(), ".annotations'): "));
    index = std::make_shared<const data::VggssIndex>(*std::move(read));
  }
  const bool needs_gt = lists.mode != Mode::kTrain || !lists.annotated.empty();
  if (needs_gt && index == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(kComponent, " ", c.path(),
                                                   ": the GT comes from `annotations` (vggss.json), which is not set "
                                                   "(needed by test modes and by annotated_list)"));
  }

  // Class ids: the line of classes_file, else the position among the sorted class names of the annotations.
  std::vector<std::string> class_names;
  if (c.Has("classes_file")) {
    AVSL_ASSIGN_OR_RETURN(class_names, ReadClassList(ResolvePath(lists.root, c.GetString("classes_file"))));
  } else if (index != nullptr) {
    class_names = index->ClassNames();
  }
  std::map<std::string, int> class_ids;
  for (size_t i = 0; i < class_names.size(); ++i) class_ids[class_names[i]] = static_cast<int>(i);
  auto class_of = [&](const std::string& id) -> std::string {
    const data::VggssEntry* e = index ? index->Find(id) : nullptr;
    return e ? e->class_name : std::string();
  };

  std::vector<std::string> positives = lists.positives;
  if (c.Has("split")) {
    AVSL_ASSIGN_OR_RETURN(std::shared_ptr<Split> split, BuildSub<Split>(c, "split"));
    std::vector<SplitItem> items;
    items.reserve(positives.size());
    for (const std::string& id : positives) items.push_back(SplitItem{id, id, class_of(id)});
    absl::StatusOr<std::vector<size_t>> kept = split->Select(items);
    if (!kept.ok()) return Prefixed(kept.status(), absl::StrCat(kComponent, " ", c.path(), ".split: "));
    std::vector<std::string> selected;
    for (size_t k : *kept) selected.push_back(positives[k]);
    positives = std::move(selected);
  }

  std::vector<FileEntry> entries = ListEntries(lists, positives);
  for (size_t i = 0; i < positives.size(); ++i) {
    const std::string& id = positives[i];
    FileEntry& e = entries[i];
    // A test id without GT would be scored against an empty map; refuse it now, naming the files.
    if (e.annotated && index->Find(id) == nullptr) {
      return absl::NotFoundError(absl::StrCat(kComponent, " ", c.path(), ": id ", id, " of ",
                                              lists.mode == Mode::kTrain ? "annotated_list" : "list",
                                              " has no entry in ", index_path));
    }
    const std::string cls = class_of(id);
    if (!cls.empty()) {
      auto it = class_ids.find(cls);
      if (it == class_ids.end()) {
        return absl::NotFoundError(absl::StrCat(kComponent, " ", c.path(), ": class \"", cls, "\" of id ", id,
                                                " is not in classes_file ", c.GetString("classes_file")));
      }
      e.class_id = it->second;
    }
  }
  AVSL_RETURN_IF_ERROR(AppendNegativeAudio(lists, kComponent, &entries));
  GtSource gt;
  gt.kind = GtSource::Kind::kVggss;
  gt.vggss = index;
  return NewFileDataset(c, kComponent, lists, std::move(entries), std::move(gt), pipeline);
}

}  // namespace

void RegisterVggSound(Registrar& registrar) {
  Schema s("VGG-Sound / VGG-SS: <root>/frames/<id>.jpg, <root>/audio/<id>.wav, GT and classes from vggss.json");
  AddFileDatasetFields(s);
  s.OptionalString("annotations", "vggss.json with the GT boxes and classes; relative to root (needed by test "
                                  "modes and annotated_list)");
  s.OptionalString("classes_file", "class names, one per line, giving class ids by line; default: the sorted "
                                   "class names of `annotations`");
  s.Component("split", ComponentKind::kSplit, "",
              "optional split component restricting the list ids by "
              "class (e.g. datasets.OpenSet)");
  registrar.Register<Dataset>("VggSound", std::move(s), MakeVggSound,
                              "VGG-Sound/VGG-SS frames + audio, GT boxes and classes from vggss.json");
}

}  // namespace avsl::plugins::datasets
