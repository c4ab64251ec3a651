// Frames as the datasets read them: OpenCV decode behind avsl's own checks (avsl/data/image_transform.h), then
// the test-time transform (resize, centre crop, normalize) on whatever size came out.
#include <vector>

#include "avsl/data/image_transform.h"
#include "fuzz_target.h"

AVSL_FUZZ_TARGET(image) {
  auto image = avsl::data::DecodeImageBytes(std::vector<uint8_t>(data, data + size), "fuzz.jpg");
  if (!image.ok()) return 0;
  (void)avsl::data::TestTransform(*image);
  return 0;
}
