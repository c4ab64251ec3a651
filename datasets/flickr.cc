// datasets.Flickr: Flickr-SoundNet in the EZ-VSL/SLAVC layout, GT from Annotations/<id>.xml (annotator
// consensus map, reference positional parsing rule).
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "avsl/core/status_macros.h"
#include "components.h"
#include "file_dataset.h"

namespace avsl::plugins::datasets {
namespace {

absl::StatusOr<std::shared_ptr<Dataset>> MakeFlickr(const ComponentConfig& c) {
  const std::string component = "datasets.Flickr";
  AVSL_ASSIGN_OR_RETURN(PipelineOptions pipeline, ReadPipelineOptions(c));
  AVSL_ASSIGN_OR_RETURN(FileLists lists, ReadFileLists(c, component));
  GtSource gt;
  gt.kind = GtSource::Kind::kFlickrXml;
  gt.annotation_dir = ResolvePath(lists.root, c.GetString("annotations_dir"));
  std::vector<FileEntry> entries = ListEntries(lists, lists.positives);
  AVSL_RETURN_IF_ERROR(AppendNegativeAudio(lists, component, &entries));
  return NewFileDataset(c, component, lists, std::move(entries), std::move(gt), pipeline);
}

}  // namespace

void RegisterFlickr(Registrar& registrar) {
  Schema s("Flickr-SoundNet: <root>/frames/<id>.jpg, <root>/audio/<id>.wav, GT <annotations_dir>/<id>.xml");
  AddFileDatasetFields(s);
  s.String("annotations_dir", "Annotations", "folder of the <id>.xml annotations; relative to root");
  registrar.Register<Dataset>("Flickr", std::move(s), MakeFlickr,
                              "Flickr-SoundNet frames + audio, GT from the annotator-consensus XML maps");
}

}  // namespace avsl::plugins::datasets
