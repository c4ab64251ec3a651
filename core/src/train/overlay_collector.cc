#include "avsl/train/overlay_collector.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "avsl/viz/png_writer.h"

namespace avsl::train {

OverlayCollector::OverlayCollector(int count, viz::OverlayOptions options, data::Normalization norm)
    : sounding_left_(count), silent_left_(count / 4), options_(options), norm_(norm) {}

void OverlayCollector::Add(const Sample& sample, const Map2D& map, double conf) {
  if (!sample.negative_audio.empty()) return;  // the split's pictures only (its silent slots are its own negatives)
  int& left = sample.sounding ? sounding_left_ : silent_left_;
  if (left <= 0) return;
  --left;
  Kept k;
  k.key = sample.key;
  k.map = map;
  k.gt = sample.gt_map;
  k.conf = conf;
  k.sounding = sample.sounding;
  // The model input back to 8-bit RGB: x * std + mean, then * 255.
  const data::ImageTensor& t = sample.image;
  k.frame.height = t.height;
  k.frame.width = t.width;
  k.frame.pixels.resize(static_cast<size_t>(t.height) * t.width * 3);
  for (int y = 0; y < t.height; ++y) {
    for (int x = 0; x < t.width; ++x) {
      for (int c = 0; c < 3 && c < t.channels; ++c) {
        const double v = (t.at(c, y, x) * norm_.std[c] + norm_.mean[c]) * 255.0;
        k.frame.pixels[(static_cast<size_t>(y) * t.width + x) * 3 + c] = static_cast<uint8_t>(
            std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  kept_.push_back(std::move(k));
}

absl::StatusOr<std::vector<std::string>> OverlayCollector::Write(const std::string& dir,
                                                                 const metrics::EvalResult& result) const {
  std::map<std::string, double> ciou;
  for (const metrics::SampleRecord& r : result.samples)
    if (r.sounding) ciou[r.key] = r.ciou;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::vector<std::string> paths;
  for (const Kept& k : kept_) {
    viz::OverlayInput input;
    input.key = k.key;
    input.frame = k.frame;
    input.map = k.map;
    if (k.sounding) input.gt = k.gt;
    auto it = ciou.find(k.key);
    input.caption = viz::SampleCaption(k.key, it == ciou.end() ? std::nullopt : std::optional<double>(it->second),
                                       k.conf);
    absl::StatusOr<data::RgbImage> picture = viz::RenderOverlay(input, options_);
    if (!picture.ok()) return picture.status();
    const std::string path = (std::filesystem::path(dir) / (k.key + ".png")).string();
    absl::Status s = viz::WritePng(path, *picture);
    if (!s.ok()) return s;
    paths.push_back(path);
  }
  return paths;
}

}  // namespace avsl::train
