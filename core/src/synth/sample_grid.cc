#include "avsl/synth/sample_grid.h"

#include <algorithm>
#include <string>

#include <opencv2/imgproc.hpp>

namespace avsl {
namespace synth {

cv::Mat RenderSampleGrid(const SceneGenerator& generator, uint64_t seed, int rows, int cols, int cell_size) {
  const SceneOptions& o = generator.options();
  constexpr int kCaption = 26;  // two caption lines
  constexpr int kGap = 4;
  const int cell_h = cell_size * o.image_height / o.image_width;
  cv::Mat grid(rows * (cell_h + kCaption + kGap) + kGap, cols * (cell_size + kGap) + kGap, CV_8UC3,
               cv::Scalar(255, 255, 255));
  const double sx = static_cast<double>(cell_size) / o.image_width;
  const double sy = static_cast<double>(cell_h) / o.image_height;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      const Scene scene = generator.Generate(seed, Split::kTest, 0, static_cast<uint64_t>(r * cols + c));
      cv::Mat cell;
      cv::resize(scene.image, cell, cv::Size(cell_size, cell_h), 0, 0, cv::INTER_NEAREST);
      auto rect = [&](const Box& b) {
        return cv::Rect(static_cast<int>(b.x0 * sx), static_cast<int>(b.y0 * sy),
                        std::max(1, static_cast<int>(b.width() * sx) - 1),
                        std::max(1, static_cast<int>(b.height() * sy) - 1));
      };
      // Double outline so the GT box reads on light and dark backgrounds.
      const cv::Rect gt = rect(scene.gt_boxes.front());
      cv::rectangle(cell, gt, cv::Scalar(0, 0, 0), 3);
      cv::rectangle(cell, gt, cv::Scalar(255, 255, 255), 1);
      const int x = kGap + c * (cell_size + kGap);
      const int y = kGap + r * (cell_h + kCaption + kGap);
      cell.copyTo(grid(cv::Rect(x, y, cell_size, cell_h)));
      const SizeBucket bucket = BucketForArea(Area224(scene.gt_boxes.front(), o.image_width, o.image_height));
      const std::string lines[2] = {
          generator.catalogue().at(scene.sounding_class).name,
          std::string(BucketName(bucket)) + ", " + std::to_string(scene.objects.size()) + " object(s)"};
      for (int l = 0; l < 2; ++l) {
        cv::putText(grid, lines[l], cv::Point(x + 1, y + cell_h + 11 + 12 * l), cv::FONT_HERSHEY_PLAIN, 0.7,
                    cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
      }
    }
  }
  return grid;
}

}  // namespace synth
}  // namespace avsl
