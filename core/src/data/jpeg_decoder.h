// JPEG frames decoded by libjpeg(-turbo) straight into RGB. OpenCV's imdecode asks libjpeg for RGB, swaps it to BGR
// in a scalar loop, and the loader then swaps it back with cvtColor: two extra passes over every frame, about a
// sixth of a training sample's cost at 480×360. The pixels are the same (the same library and decoding settings);
// data_preprocess_test compares them with OpenCV's on baseline, progressive, optimized, restart-marker and grey files.
// Built with libjpeg only where its headers were found (AVSL_HAVE_LIBJPEG); elsewhere OpenCV decodes every frame.
#pragma once

#include <cstdint>
#include <vector>

#include "avsl/data/image_transform.h"

namespace avsl::data {

/// Decodes a JPEG to 8-bit RGB. false when this build has no direct decoder or libjpeg cannot give RGB itself (CMYK
/// files, a corrupt stream): the caller then decodes with OpenCV, which handles those and words the errors.
bool DecodeJpegToRgb(const std::vector<uint8_t>& bytes, RgbImage* out);

}  // namespace avsl::data
