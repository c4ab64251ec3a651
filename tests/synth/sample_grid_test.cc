// Also the generator of docs/images/synthetic_samples.png:
//   AVSL_SYNTH_SAMPLES_PNG=docs/images/synthetic_samples.png ./sample_grid_test
#include "avsl/synth/sample_grid.h"

#include <cstdlib>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "avsl/viz/png_writer.h"
#include "gtest/gtest.h"

namespace avsl {
namespace synth {
namespace {

TEST(SampleGridTest, LaysOutCellsWithCaptionsAndIsDeterministic) {
  auto gen = SceneGenerator::Create(SceneOptions{}, CatalogueOptions{});
  ASSERT_TRUE(gen.ok());
  const cv::Mat grid = RenderSampleGrid(*gen, 0, 2, 3, 128);
  // Width 3 * (128 + 4) + 4 = 400; height 2 * (128 + 26 + 4) + 4 = 320.
  EXPECT_EQ(grid.cols, 400);
  EXPECT_EQ(grid.rows, 320);
  EXPECT_EQ(grid.type(), CV_8UC3);
  EXPECT_EQ(cv::norm(grid, RenderSampleGrid(*gen, 0, 2, 3, 128), cv::NORM_INF), 0.0);
  // The first cell is the nearest-neighbour upscale of test scene 0 away from the drawn boxes: its
  // top-left pixel (grid (4, 4)) equals the scene's pixel (0, 0) unless a box starts there.
  const Scene s = gen->Generate(0, Split::kTest, 0, 0);
  bool box_at_origin = false;
  for (const SceneObject& o : s.objects) box_at_origin |= (o.box.x0 == 0 && o.box.y0 == 0);
  if (!box_at_origin) {
    EXPECT_EQ(grid.at<cv::Vec3b>(4, 4), s.image.at<cv::Vec3b>(0, 0));
  }

  if (const char* out = std::getenv("AVSL_SYNTH_SAMPLES_PNG")) {
    const cv::Mat doc_grid = RenderSampleGrid(*gen, 0, 2, 4, 160);
    data::RgbImage rgb;
    rgb.width = doc_grid.cols;
    rgb.height = doc_grid.rows;
    rgb.pixels.resize(doc_grid.total() * 3);
    cv::cvtColor(doc_grid, cv::Mat(rgb.height, rgb.width, CV_8UC3, rgb.pixels.data()), cv::COLOR_BGR2RGB);
    const absl::Status written = viz::WritePng(out, rgb);
    ASSERT_TRUE(written.ok()) << written;
  }
}

}  // namespace
}  // namespace synth
}  // namespace avsl
