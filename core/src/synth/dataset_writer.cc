#include "avsl/synth/dataset_writer.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/counter_rng.h"
#include "avsl/core/status_macros.h"
#include "avsl/data/wav_reader.h"
#include "avsl/synth/annotation_format.h"
#include "avsl/synth/wav_writer.h"
#include "data/jpeg_codec.h"

namespace avsl {
namespace synth {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kSupervisedStream = 99;

const char* SplitName(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kVal: return "val";
    case Split::kTest: return "test";
    case Split::kInteractive: return "interactive";
  }
  return "?";
}

// What the metadata files need to know about a written scene.
struct Written {
  std::string id;
  int sounding_class;
  Box box;
  std::vector<std::array<int, 4>> boxes_256;
};

absl::Status MakeDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create directory ", dir.string(), ": ", ec.message()));
  if (!fs::is_directory(dir)) return absl::InternalError(absl::StrCat(dir.string(), " exists and is not a directory"));
  return absl::OkStatus();
}

absl::Status WriteJpeg(const fs::path& path, const cv::Mat& bgr, int quality) {
  if (bgr.type() != CV_8UC3) return absl::InternalError(absl::StrCat(path.string(), ": the scene is not 8-bit BGR"));
  // Baseline JPEG with fixed quality; libjpeg's encoder is deterministic for fixed input and parameters.
  AVSL_ASSIGN_OR_RETURN(
      const std::vector<uint8_t> bytes,
      data::EncodeJpegBytes({bgr.data, bgr.cols, bgr.rows, bgr.step[0], /*bgr=*/true}, quality, path.string()));
  return WriteFileBytes(path.string(), std::string(bytes.begin(), bytes.end()));
}

// Generates and writes scenes [0, count) of `split`; annotations for the indices where `annotate` says so.
absl::Status WriteSplit(const SceneGenerator& gen, const SynthOptions& o, Split split, int count,
                        const std::vector<bool>& annotate, const fs::path& root, std::vector<Written>& out) {
  for (int i = 0; i < count; ++i) {
    const Scene scene = gen.Generate(o.seed, split, 0, static_cast<uint64_t>(i));
    Written w{SampleId(split, static_cast<uint64_t>(i)), scene.sounding_class, scene.gt_boxes.front(),
              scene.annotator_boxes_256};
    AVSL_RETURN_IF_ERROR(WriteJpeg(root / "frames" / (w.id + ".jpg"), scene.image, o.jpeg_quality));
    AVSL_RETURN_IF_ERROR(data::WriteWavPcm16Raw((root / "audio" / (w.id + ".wav")).string(), scene.audio.pcm,
                                                /*channels=*/1, scene.audio.sample_rate));
    if (annotate[static_cast<size_t>(i)]) {
      AVSL_RETURN_IF_ERROR(
          WriteFileBytes((root / "Annotations" / (w.id + ".xml")).string(),
                         FlickrAnnotationXml(w.id, gen.catalogue().at(w.sounding_class).name, w.boxes_256)));
    }
    out.push_back(std::move(w));
  }
  return absl::OkStatus();
}

absl::Status WriteText(const fs::path& path, const std::vector<std::string>& lines, LineEnding eol, bool final_nl) {
  return WriteFileBytes(path.string(), JoinLines(lines, eol, final_nl));
}

std::vector<std::string> Ids(const std::vector<Written>& ws) {
  std::vector<std::string> ids;
  for (const Written& w : ws) ids.push_back(w.id);
  return ids;
}

// Flickr test CSVs are "id,<int>"; the synthetic second column is the sounding class id.
std::vector<std::string> IdClassRows(const std::vector<Written>& ws) {
  std::vector<std::string> rows;
  for (const Written& w : ws) rows.push_back(absl::StrCat(w.id, ",", w.sounding_class));
  return rows;
}

VggssEntry ToVggss(const Written& w, const ClassCatalogue& catalogue, int width, int height) {
  return VggssEntry{w.id,
                    catalogue.at(w.sounding_class).name,
                    {{static_cast<double>(w.box.x0) / width, static_cast<double>(w.box.y0) / height,
                      static_cast<double>(w.box.x1) / width, static_cast<double>(w.box.y1) / height}}};
}

std::string InfoJson(const SynthOptions& o, const ClassCatalogue& catalogue, size_t num_supervised) {
  const SceneOptions& s = o.scene;
  const AudioOptions& a = s.audio;
  nlohmann::ordered_json j;
  j["generator"] = "avsl synthetic audio-visual benchmark";
  j["seed"] = o.seed;
  j["counts"] = {{"train", o.num_train},
                 {"val", o.num_val},
                 {"test", o.num_test},
                 {"negatives", o.num_negatives},
                 {"supervised", num_supervised}};
  j["image"] = {{"width", s.image_width}, {"height", s.image_height}, {"jpeg_quality", o.jpeg_quality}};
  j["objects"] = {{"min_objects", s.min_objects},          {"max_objects", s.max_objects},
                  {"min_side_frac", s.min_side_frac},      {"max_side_frac", s.max_side_frac},
                  {"bucket_weights", s.bucket_weights},    {"max_aspect", s.max_aspect},
                  {"max_overlap", s.max_overlap},          {"max_clutter", s.max_clutter},
                  {"pixel_noise_std", s.pixel_noise_std},  {"num_annotators", s.num_annotators},
                  {"annotator_jitter", s.annotator_jitter}};
  j["audio"] = {{"sample_rate", a.sample_rate},     {"clip_seconds", a.clip_seconds},
                {"num_samples", a.num_samples()},   {"noise_std", {a.noise_std_min, a.noise_std_max}},
                {"gain", {a.gain_min, a.gain_max}}, {"distractor_prob", a.distractor_prob},
                {"output_scale", a.output_scale}};
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  for (const ClassSpec& c : catalogue.classes()) {
    classes.push_back({{"id", c.id},
                       {"name", c.name},
                       {"heard", c.heard},
                       {"shape", ShapeName(c.shape)},
                       {"texture", TextureName(c.texture)},
                       {"f0_hz", c.f0_hz},
                       {"rolloff", c.rolloff},
                       {"odd_only", c.odd_only},
                       {"am_hz", c.am_hz}});
  }
  j["classes"] = std::move(classes);
  return j.dump(2) + "\n";
}

}  // namespace

SynthOptions QuickPreset() { return SynthOptions{}; }

SynthOptions StandardPreset() {
  SynthOptions o;
  o.num_train = 10000;
  o.num_val = 1000;
  o.num_test = 1000;
  o.num_negatives = 1000;
  o.scene.image_width = 96;
  o.scene.image_height = 96;
  o.scene.audio.clip_seconds = 1.0;
  o.scene.audio.distractor_prob = 0.2;
  return o;
}

SynthOptions BenchPreset() {
  SynthOptions o;
  o.num_train = 640;
  o.num_val = 32;
  o.num_test = 32;
  o.num_negatives = 32;
  o.scene.image_width = 480;
  o.scene.image_height = 360;
  o.scene.audio.clip_seconds = 10.0;
  return o;
}

absl::StatusOr<SynthOptions> PresetByName(absl::string_view name) {
  if (name == "quick") return QuickPreset();
  if (name == "standard") return StandardPreset();
  if (name == "bench") return BenchPreset();
  return absl::InvalidArgumentError(
      absl::StrCat("unknown synth preset \"", name, "\", expected quick, standard or bench"));
}

absl::Status ValidateSynthOptions(const SynthOptions& o) {
  auto count_error = [](const char* key, long long got, const std::string& expected) {
    return absl::InvalidArgumentError(absl::StrCat("synth option ", key, ": got ", got, ", expected ", expected));
  };
  constexpr int kMaxCount = 1000000;  // ids are zero-padded to 6 digits so that lexical order = index order
  if (o.num_train < 1 || o.num_train > kMaxCount) return count_error("num_train", o.num_train, "[1, 1000000]");
  if (o.num_val < 0 || o.num_val > kMaxCount) return count_error("num_val", o.num_val, "[0, 1000000]");
  if (o.num_test < 1 || o.num_test > kMaxCount) return count_error("num_test", o.num_test, "[1, 1000000]");
  if (o.num_negatives < 0 || o.num_negatives > o.num_test) {
    return count_error("num_negatives", o.num_negatives, absl::StrCat("[0, num_test = ", o.num_test, "]"));
  }
  if (!(o.supervised_fraction >= 0.0 && o.supervised_fraction <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("synth option supervised_fraction: got ", o.supervised_fraction, ", expected [0, 1]"));
  }
  if (o.jpeg_quality < 1 || o.jpeg_quality > 100) return count_error("jpeg_quality", o.jpeg_quality, "[1, 100]");
  // Creating the generator validates the catalogue and scene options.
  absl::StatusOr<SceneGenerator> gen = SceneGenerator::Create(o.scene, o.catalogue);
  return gen.status();
}

std::string SampleId(Split split, uint64_t index) { return absl::StrFormat("%s_%06d", SplitName(split), index); }

std::string NegativeAudioId(uint64_t index) { return absl::StrFormat("neg_%06d", index); }

std::vector<uint64_t> SupervisedIndices(const SynthOptions& o) {
  const size_t n = static_cast<size_t>(std::floor(o.supervised_fraction * o.num_train + 0.5));
  std::vector<std::pair<uint64_t, uint64_t>> keyed;
  for (uint64_t i = 0; i < static_cast<uint64_t>(o.num_train); ++i) {
    keyed.emplace_back(CounterRng(CounterRng::KeyFor(o.seed, 0, 0, i, kSupervisedStream)).NextU64(), i);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<uint64_t> out;
  for (size_t i = 0; i < n && i < keyed.size(); ++i) out.push_back(keyed[i].second);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status WriteSyntheticDataset(const SynthOptions& o, const std::string& out_dir) {
  AVSL_RETURN_IF_ERROR(ValidateSynthOptions(o));
  AVSL_ASSIGN_OR_RETURN(const SceneGenerator gen, SceneGenerator::Create(o.scene, o.catalogue));
  const ClassCatalogue& catalogue = gen.catalogue();
  const fs::path root(out_dir);
  for (const char* sub : {"frames", "audio", "Annotations", "metadata"}) AVSL_RETURN_IF_ERROR(MakeDir(root / sub));

  const std::vector<uint64_t> sup = SupervisedIndices(o);
  std::vector<bool> annotate_train(static_cast<size_t>(o.num_train), false);
  for (uint64_t i : sup) annotate_train[i] = true;
  std::vector<Written> train, val, test;
  AVSL_RETURN_IF_ERROR(WriteSplit(gen, o, Split::kTrain, o.num_train, annotate_train, root, train));
  AVSL_RETURN_IF_ERROR(
      WriteSplit(gen, o, Split::kVal, o.num_val, std::vector<bool>(static_cast<size_t>(o.num_val), true), root, val));
  AVSL_RETURN_IF_ERROR(WriteSplit(gen, o, Split::kTest, o.num_test,
                                  std::vector<bool>(static_cast<size_t>(o.num_test), true), root, test));

  std::vector<std::string> silent_rows{"video,audio,label"};
  for (int i = 0; i < o.num_negatives; ++i) {
    const uint64_t idx = static_cast<uint64_t>(i);
    const Scene neg = gen.GenerateNegative(o.seed, Split::kTest, 0, idx);
    AVSL_RETURN_IF_ERROR(data::WriteWavPcm16Raw((root / "audio" / (NegativeAudioId(idx) + ".wav")).string(),
                                                neg.audio.pcm, /*channels=*/1, neg.audio.sample_rate));
    silent_rows.push_back(absl::StrCat(SampleId(Split::kTest, idx), ",", NegativeAudioId(idx), ",non-sounding"));
  }

  const fs::path meta = root / "metadata";
  using LE = LineEnding;
  // Line endings and final newlines copy the published (SLAVC) file of the same name, as tabled in
  // docs/datasets.md, 'Split lists and test sets'.
  AVSL_RETURN_IF_ERROR(WriteText(meta / "flickr_train.txt", Ids(train), LE::kLf, false));
  std::vector<std::string> sup_ids;
  for (uint64_t i : sup) sup_ids.push_back(train[i].id);
  AVSL_RETURN_IF_ERROR(WriteText(meta / "flickr_sup_train.txt", sup_ids, LE::kLf, false));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "flickr_val.csv", IdClassRows(val), LE::kCrLf, false));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "flickr_test.csv", IdClassRows(test), LE::kCrLf, false));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "flickr_test_plus_silent.csv", silent_rows, LE::kCrLf, false));

  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_train.txt", Ids(train), LE::kLf, false));
  std::vector<std::string> heard_train, heard_test, unheard_test;
  for (const Written& w : train) {
    if (catalogue.at(w.sounding_class).heard) heard_train.push_back(w.id);
  }
  for (const Written& w : test) (catalogue.at(w.sounding_class).heard ? heard_test : unheard_test).push_back(w.id);
  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_heard.txt", heard_train, LE::kLf, false));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_val.csv", Ids(val), LE::kCrLf, true));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_test.csv", Ids(test), LE::kCrLf, true));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_heard_test.csv", heard_test, LE::kLf, false));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_unheard_test.csv", unheard_test, LE::kLf, false));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "vggss_test_plus_silent.csv", silent_rows, LE::kCrLf, false));

  std::vector<VggssEntry> entries;
  const int w = o.scene.image_width, h = o.scene.image_height;
  for (const Written& x : test) entries.push_back(ToVggss(x, catalogue, w, h));
  for (const Written& x : val) entries.push_back(ToVggss(x, catalogue, w, h));
  for (uint64_t i : sup) entries.push_back(ToVggss(train[i], catalogue, w, h));
  AVSL_RETURN_IF_ERROR(WriteFileBytes((meta / "vggss.json").string(), VggssJson(entries)));

  std::vector<std::string> all_names, heard_names, unheard_names;
  for (const ClassSpec& c : catalogue.classes()) {
    all_names.push_back(c.name);
    (c.heard ? heard_names : unheard_names).push_back(c.name);
  }
  AVSL_RETURN_IF_ERROR(WriteText(meta / "classes.txt", all_names, LE::kLf, true));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "heard_classes.txt", heard_names, LE::kLf, true));
  AVSL_RETURN_IF_ERROR(WriteText(meta / "unheard_classes.txt", unheard_names, LE::kLf, true));
  return WriteFileBytes((meta / "synth_info.json").string(), InfoJson(o, catalogue, sup.size()));
}

}  // namespace synth
}  // namespace avsl
