#include "avsl/train/run_report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/csrc/api/include/torch/version.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "avsl/core/status_macros.h"
#include "avsl/core/version.h"
#include "avsl/io/atomic_file.h"
#include "avsl/io/file_sha1.h"
#include "avsl/io/run_dir.h"
#include "data/png_codec.h"

namespace avsl::train {

std::string EnvJson(const PluginHost& host, const std::string& device, int threads, long long seed,
                    const std::string& command_line) {
  char hostname[256] = {0};
  gethostname(hostname, sizeof(hostname) - 1);
  nlohmann::json plugins = nlohmann::json::array();
  for (const PluginRecord& r : host.records()) {
    plugins.push_back({{"name", r.name},
                       {"version", r.version},
                       {"path", r.path},
                       {"status", PluginStatusCode(r.status)},
                       {"sha1", io::FileSha1(r.path)}});
  }
  nlohmann::json j = {{"avsl_version", AVSL_VERSION},
                      {"sdk_version", AVSL_SDK_VERSION},
                      {"torch_version", TORCH_VERSION},
                      {"cxx11_abi", _GLIBCXX_USE_CXX11_ABI},
                      {"device", device},
                      {"threads", threads},
                      {"hardware_threads", std::thread::hardware_concurrency()},
                      {"seed", seed},
                      {"host", hostname},
                      {"command", command_line},
                      {"plugins", plugins}};
  return j.dump(2) + "\n";
}

namespace {

// One line of the curve: value per epoch (std::map: sorted by epoch, the last record of an epoch wins).
struct CurveSeries {
  std::string name;   ///< "val.ap", "train.loss", ...
  std::string label;  ///< legend text
  cv::Scalar colour;
  std::map<double, double> points;
};

// A plot area of the curve: its series against epoch 0..max_epoch, values from `lo` (bottom) to `hi` (top).
struct CurvePanel {
  std::string title;
  std::vector<CurveSeries> series;
  double lo = 0, hi = 1;
  double tick_scale = 1;      ///< tick labels show value × tick_scale
  bool legend_right = false;  ///< legend in the top-right corner (falling curves start top-left)
};

constexpr int kCurveWidth = 640, kCurveLeft = 70, kCurveRight = 20, kCurveTop = 30, kCurveGap = 55, kCurveBottom = 50;
constexpr int kValPanelHeight = 300, kTrainPanelHeight = 200;
const cv::Scalar kCurveBlack(0, 0, 0);

void DrawCurvePanel(cv::Mat& img, int y0, int height, double max_epoch, const CurvePanel& panel) {
  const int x0 = kCurveLeft, x1 = kCurveWidth - kCurveRight, y1 = y0 + height;
  const double span = panel.hi - panel.lo;
  auto px = [&](double epoch, double v) {
    const double t = std::clamp((v - panel.lo) / span, 0.0, 1.0);
    return cv::Point(x0 + static_cast<int>(std::lround((x1 - x0) * epoch / max_epoch)),
                     y1 - static_cast<int>(std::lround((y1 - y0) * t)));
  };
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  cv::rectangle(img, cv::Point(x0, y0), cv::Point(x1, y1), kCurveBlack, 1);
  cv::putText(img, panel.title, cv::Point(x0, y0 - 8), font, 0.45, kCurveBlack);
  for (int i = 0; i <= 4; ++i) {
    const double v = panel.lo + span * i / 4.0;
    const std::string tick = absl::StrFormat("%.3g", v * panel.tick_scale);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(tick, font, 0.4, 1, &baseline);
    cv::putText(img, tick, cv::Point(x0 - 6 - size.width, px(0, v).y + 5), font, 0.4, kCurveBlack);
  }
  cv::putText(img, "0", cv::Point(x0 - 4, y1 + 16), font, 0.4, kCurveBlack);
  cv::putText(img, absl::StrCat(static_cast<long long>(std::lround(max_epoch))), cv::Point(x1 - 10, y1 + 16), font, 0.4,
              kCurveBlack);
  int legend_y = y0 + 15;
  for (const CurveSeries& s : panel.series) {
    std::vector<cv::Point> points;
    for (const auto& [epoch, value] : s.points) points.push_back(px(epoch, value));
    for (size_t i = 1; i < points.size(); ++i) cv::line(img, points[i - 1], points[i], s.colour, 2);
    for (const cv::Point& p : points) cv::circle(img, p, 3, s.colour, -1);
    int baseline = 0;
    const cv::Size size = cv::getTextSize(s.label, font, 0.45, 1, &baseline);
    const int legend_x = panel.legend_right ? x1 - 10 - size.width : x0 + 10;
    cv::putText(img, s.label, cv::Point(legend_x, legend_y), font, 0.45, s.colour);
    legend_y += 18;
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> WriteTrainingCurve(const std::string& metrics_jsonl,
                                                            const std::string& png_path,
                                                            const std::vector<std::string>& train_values) {
  // The validation panel keeps the seed's colours; the training panel starts with the loss in dark grey.
  CurvePanel val;
  val.title = "validation";
  val.tick_scale = 100;
  const std::vector<std::pair<std::string, cv::Scalar>> val_keys = {
      {"loc_acc", cv::Scalar(200, 80, 0)}, {"ap", cv::Scalar(0, 0, 200)}, {"max_f1", cv::Scalar(0, 150, 0)}};
  for (const auto& [key, colour] : val_keys) val.series.push_back({"val." + key, "val " + key + " (x100)", colour, {}});
  CurvePanel train;
  train.title = "training (epoch means)";
  train.legend_right = true;
  const std::vector<cv::Scalar> palette = {cv::Scalar(150, 0, 150), cv::Scalar(0, 140, 220), cv::Scalar(120, 120, 0),
                                           cv::Scalar(0, 90, 180),  cv::Scalar(200, 0, 90),  cv::Scalar(90, 160, 90)};
  std::vector<std::string> train_keys = {"loss"};
  for (const std::string& name : train_values)
    if (std::find(train_keys.begin(), train_keys.end(), name) == train_keys.end()) train_keys.push_back(name);
  for (size_t i = 0; i < train_keys.size(); ++i) {
    const cv::Scalar colour = i == 0 ? cv::Scalar(60, 60, 60) : palette[(i - 1) % palette.size()];
    train.series.push_back({"train." + train_keys[i], "train " + train_keys[i], colour, {}});
  }

  std::ifstream in(metrics_jsonl);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("epoch") || !j["epoch"].is_number()) continue;
    const std::string split = j.contains("split") && j["split"].is_string() ? j["split"].get<std::string>() : "";
    CurvePanel* panel = split == "val" ? &val : split == "train_epoch" ? &train : nullptr;
    if (panel == nullptr) continue;
    const double epoch = j["epoch"].get<double>();
    const size_t prefix = split == "val" ? 4 : 6;  // "val." / "train."
    for (CurveSeries& s : panel->series) {
      const std::string key = s.name.substr(prefix);
      if (j.contains(key) && j[key].is_number() && std::isfinite(j[key].get<double>())) {
        s.points[epoch] = j[key].get<double>();
      }
    }
  }
  std::vector<std::string> drawn;
  double max_epoch = 1;
  for (CurvePanel* panel : {&val, &train}) {
    std::vector<CurveSeries> kept;
    for (CurveSeries& s : panel->series) {
      if (s.points.empty()) continue;
      max_epoch = std::max(max_epoch, s.points.rbegin()->first);
      drawn.push_back(s.name);
      kept.push_back(std::move(s));
    }
    panel->series = std::move(kept);
  }
  if (drawn.empty()) {
    return absl::FailedPreconditionError("no validation or train_epoch records in " + metrics_jsonl);
  }
  if (!train.series.empty()) {  // one axis fitted to every value drawn, with a margin
    double lo = INFINITY, hi = -INFINITY;
    for (const CurveSeries& s : train.series) {
      for (const auto& [epoch, value] : s.points) {
        lo = std::min(lo, value);
        hi = std::max(hi, value);
      }
    }
    const double pad = hi - lo > 1e-12 * std::max(1.0, std::abs(hi)) ? 0.05 * (hi - lo)
                                                                     : std::max(0.05 * std::abs(hi), 1e-6);
    train.lo = lo - pad;
    train.hi = hi + pad;
  }
  const bool has_val = !val.series.empty(), has_train = !train.series.empty();
  const int height = kCurveTop + (has_val ? kValPanelHeight : 0) + (has_val && has_train ? kCurveGap : 0) +
                     (has_train ? kTrainPanelHeight : 0) + kCurveBottom;
  cv::Mat img(height, kCurveWidth, CV_8UC3, cv::Scalar(255, 255, 255));
  int y = kCurveTop;
  if (has_val) {
    DrawCurvePanel(img, y, kValPanelHeight, max_epoch, val);
    y += kValPanelHeight + kCurveGap;
  }
  if (has_train) DrawCurvePanel(img, y, kTrainPanelHeight, max_epoch, train);
  cv::putText(img, "epoch", cv::Point(kCurveWidth / 2 - 20, height - 15), cv::FONT_HERSHEY_SIMPLEX, 0.5, kCurveBlack);
  AVSL_ASSIGN_OR_RETURN(const std::vector<uint8_t> png,
                        data::EncodePng({img.data, img.cols, img.rows, img.step[0], /*bgr=*/true}, 9, png_path));
  absl::Status written = io::WriteFileAtomically(png_path, std::string(png.begin(), png.end()));
  if (!written.ok()) return written;
  return drawn;
}

absl::Status WriteEvaluation(const std::string& dir, const metrics::EvalResult& result,
                             const metrics::EvalProtocol& protocol, const std::string& confidence,
                             const std::map<std::string, double>& extra, const eval::TestSetIdentity* test_set) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  absl::Status s = io::WriteFileAtomically((std::filesystem::path(dir) / "metrics.json").string(),
                                           eval::MetricsJson(result, protocol, confidence, extra, test_set));
  if (!s.ok()) return s;
  return eval::WritePerSampleCsv((std::filesystem::path(dir) / "per_sample.csv").string(), result);
}

}  // namespace avsl::train
