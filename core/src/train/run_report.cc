#include "avsl/train/run_report.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <thread>

#include <boost/uuid/detail/sha1.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/csrc/api/include/torch/version.h>

#include "absl/strings/str_cat.h"
#include "avsl/core/version.h"
#include "avsl/io/run_dir.h"

namespace avsl::train {
namespace {

std::string Sha1OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  boost::uuids::detail::sha1 sha;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    sha.process_bytes(buf, static_cast<size_t>(in.gcount()));
  }
  boost::uuids::detail::sha1::digest_type digest;
  sha.get_digest(digest);
  std::ostringstream os;
  for (unsigned int d : digest) os << std::hex << std::setw(8) << std::setfill('0') << d;
  return os.str();
}

}  // namespace

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
                       {"sha1", Sha1OfFile(r.path)}});
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

absl::Status WriteTrainingCurve(const std::string& metrics_jsonl, const std::string& png_path) {
  std::ifstream in(metrics_jsonl);
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || j.value("split", "") != "val") continue;
    for (const char* key : {"loc_acc", "ap", "max_f1"}) {
      if (j.contains(key) && j[key].is_number())
        series[key].emplace_back(j["epoch"].get<double>(), j[key].get<double>());
    }
  }
  if (series.empty()) return absl::FailedPreconditionError("no validation records in " + metrics_jsonl);
  const int w = 640, h = 400, left = 60, right = 20, top = 30, bottom = 50;
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(255, 255, 255));
  double max_epoch = 1;
  for (const auto& [k, pts] : series)
    for (const auto& p : pts) max_epoch = std::max(max_epoch, p.first);
  auto px = [&](double epoch, double v) {
    return cv::Point(left + static_cast<int>((w - left - right) * epoch / max_epoch),
                     h - bottom - static_cast<int>((h - top - bottom) * std::clamp(v, 0.0, 1.0)));
  };
  cv::rectangle(img, px(0, 0), px(max_epoch, 1), cv::Scalar(0, 0, 0), 1);
  for (int i = 0; i <= 4; ++i) {
    cv::putText(img, absl::StrCat(i * 25), px(0, i / 4.0) + cv::Point(-35, 5), cv::FONT_HERSHEY_SIMPLEX, 0.4,
                cv::Scalar(0, 0, 0));
  }
  cv::putText(img, "epoch", cv::Point(w / 2 - 20, h - 15), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0));
  cv::putText(img, absl::StrCat(static_cast<int>(max_epoch)), px(max_epoch, 0) + cv::Point(-10, 20),
              cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0));
  const std::map<std::string, cv::Scalar> colours = {
      {"loc_acc", cv::Scalar(200, 80, 0)}, {"ap", cv::Scalar(0, 0, 200)}, {"max_f1", cv::Scalar(0, 150, 0)}};
  int legend_y = top + 15;
  for (const auto& [key, pts] : series) {
    const cv::Scalar colour = colours.at(key);
    for (size_t i = 1; i < pts.size(); ++i)
      cv::line(img, px(pts[i - 1].first, pts[i - 1].second), px(pts[i].first, pts[i].second), colour, 2);
    for (const auto& p : pts) cv::circle(img, px(p.first, p.second), 3, colour, -1);
    cv::putText(img, "val " + key + " (x100)", cv::Point(left + 10, legend_y), cv::FONT_HERSHEY_SIMPLEX, 0.45, colour);
    legend_y += 18;
  }
  std::vector<uchar> png;
  if (!cv::imencode(".png", img, png)) return absl::InternalError("cannot encode " + png_path);
  return io::WriteFileAtomically(png_path, std::string(png.begin(), png.end()));
}

absl::Status WriteEvaluation(const std::string& dir, const metrics::EvalResult& result,
                             const metrics::EvalProtocol& protocol, const std::string& confidence,
                             const std::map<std::string, double>& extra) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  absl::Status s = io::WriteFileAtomically((std::filesystem::path(dir) / "metrics.json").string(),
                                           eval::MetricsJson(result, protocol, confidence, extra));
  if (!s.ok()) return s;
  return eval::WritePerSampleCsv((std::filesystem::path(dir) / "per_sample.csv").string(), result);
}

}  // namespace avsl::train
