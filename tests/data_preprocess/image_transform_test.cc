// Image decoding errors, transform geometry (boxes and maps follow the image), determinism.
#include "avsl/data/image_transform.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#if defined(AVSL_TEST_IMGCODECS)
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <cstdlib>

#include <jpeglib.h>
#include <opencv2/imgcodecs.hpp>
#endif

#include "avsl/viz/png_writer.h"
#include "gtest/gtest.h"

namespace avsl::data {
namespace {

std::string Tmp(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// 400×200 grey image with a pure red rectangle at x ∈ [100, 200), y ∈ [50, 150).
RgbImage MarkedImage() {
  RgbImage im;
  im.width = 400;
  im.height = 200;
  im.pixels.assign(400 * 200 * 3, 128);
  for (int y = 50; y < 150; ++y) {
    for (int x = 100; x < 200; ++x) {
      uint8_t* p = &im.pixels[(static_cast<size_t>(y) * 400 + x) * 3];
      p[0] = 255;
      p[1] = 0;
      p[2] = 0;
    }
  }
  return im;
}

std::string WriteJpeg(const std::string& name, const RgbImage& im) {
  const std::string path = Tmp(name);
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(im, 95, name);
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  return path;
}

// A noise image (values in [0, 240]) with some structure, so the codecs' every stage has work to do.
RgbImage NoiseImage(int width, int height, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(0, 40);
  RgbImage im;
  im.width = width;
  im.height = height;
  im.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < im.pixels.size(); ++i) {
    im.pixels[i] = static_cast<uint8_t>((i / 3 % width * 3 + i / 3 / width * 5 + i % 3 * 60) % 200 + noise(rng));
  }
  return im;
}

TEST(ImageDecodeTest, PngRoundTripIsExactAndCorruptPngsAreNamed) {
  const RgbImage im = NoiseImage(37, 23, 5);
  absl::StatusOr<std::vector<uint8_t>> png = viz::EncodePng(im, "noise.png");
  ASSERT_TRUE(png.ok()) << png.status();
  absl::StatusOr<RgbImage> back = DecodeImageBytes(*png, "noise.png");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->width, 37);
  EXPECT_EQ(back->height, 23);
  EXPECT_EQ(back->pixels, im.pixels);
  // Cut after the header, and with a flipped byte in the image data (its CRC no longer matches).
  std::vector<uint8_t> cut(png->begin(), png->begin() + 40);
  absl::StatusOr<RgbImage> c = DecodeImageBytes(cut, "cut.png");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(std::string(c.status().message()).find("image cut.png: cannot decode PNG: "), std::string::npos)
      << c.status();
  std::vector<uint8_t> flipped = *png;
  flipped[flipped.size() / 2] ^= 0x55;
  absl::StatusOr<RgbImage> f = DecodeImageBytes(flipped, "flipped.png");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(std::string(f.status().message()).find("image flipped.png: cannot decode PNG: "), std::string::npos)
      << f.status();
}

// A cut file can still end with FF D9 inside its last 4 KiB (an EXIF thumbnail's end marker, early in a small file):
// the marker check passes, and libjpeg, running out of data, would pad the image with grey and only warn.
TEST(ImageDecodeTest, ACutJpegWithAnEndMarkerInItsHeaderIsDataLoss) {
  absl::StatusOr<std::vector<uint8_t>> full = EncodeJpeg(NoiseImage(64, 48, 9), 90, "full.jpg");
  ASSERT_TRUE(full.ok()) << full.status();
  // SOI, then an APP1 segment holding FF D9, then the rest of the file cut at two thirds.
  const std::array<uint8_t, 12> head = {0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0xFF, 0xD9};
  std::vector<uint8_t> bytes(head.size() + full->size());
  std::copy(head.begin(), head.end(), bytes.begin());
  std::copy(full->begin() + 2, full->end(), bytes.begin() + head.size());
  std::vector<uint8_t> whole = bytes;
  whole.resize(head.size() + full->size() - 2);
  bytes.resize(head.size() + full->size() * 2 / 3);
  absl::StatusOr<RgbImage> d = DecodeImageBytes(bytes, "cut_thumbnail.jpg");
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kDataLoss) << d.status();
  EXPECT_NE(std::string(d.status().message()).find("cut_thumbnail.jpg: cannot decode JPEG: the data ends before"),
            std::string::npos)
      << d.status();
  // The whole file with the same segment decodes.
  EXPECT_TRUE(DecodeImageBytes(whole, "thumbnail.jpg").ok());
}

TEST(ImageDecodeTest, EncodeJpegRefusesAnImageWhoseBytesDoNotMatchItsSize) {
  RgbImage im = NoiseImage(8, 8, 1);
  im.pixels.pop_back();
  absl::StatusOr<std::vector<uint8_t>> bytes = EncodeJpeg(im, 90, "short.jpg");
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(std::string(bytes.status().message())
                .find("jpeg short.jpg: image is 8x8 with 191 bytes, expected width·height·3 > 0"),
            std::string::npos)
      << bytes.status();
}

TEST(ImageDecodeTest, JpegRoundTripIsRgb) {
  auto im = DecodeImageFile(WriteJpeg("marked.jpg", MarkedImage()));
  ASSERT_TRUE(im.ok()) << im.status();
  EXPECT_EQ(im->width, 400);
  EXPECT_EQ(im->height, 200);
  const uint8_t* p = &im->pixels[(static_cast<size_t>(100) * 400 + 150) * 3];  // inside the red block
  EXPECT_GT(p[0], 240);                                                        // R first, not BGR
  EXPECT_LT(p[2], 20);
}

#if defined(AVSL_TEST_IMGCODECS)
// Frames are decoded by libjpeg straight to RGB (core/src/data/jpeg_codec.h): the pixels must be OpenCV's in every
// JPEG flavour the datasets hold (OpenCV 4.6 writes 4:2:0 and greyscale only).
TEST(ImageDecodeTest, JpegPixelsAreOpenCvsForEveryFlavour) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> noise(0, 40);
  struct Flavour {
    int width, height;
    bool grey;
    std::vector<int> params;
  };
  const std::vector<Flavour> flavours = {
      {480, 360, false, {cv::IMWRITE_JPEG_QUALITY, 90}},                                  // Flickr frames
      {37, 23, false, {cv::IMWRITE_JPEG_QUALITY, 75}},                                    // odd sizes, 4:2:0
      {64, 48, false, {cv::IMWRITE_JPEG_QUALITY, 95, cv::IMWRITE_JPEG_PROGRESSIVE, 1}},   // progressive
      {50, 31, false, {cv::IMWRITE_JPEG_QUALITY, 90, cv::IMWRITE_JPEG_OPTIMIZE, 1}},      // optimized Huffman
      {41, 29, false, {cv::IMWRITE_JPEG_QUALITY, 90, cv::IMWRITE_JPEG_RST_INTERVAL, 2}},  // restart markers
      {33, 17, true, {cv::IMWRITE_JPEG_QUALITY, 85}},                                     // greyscale
  };
  for (const Flavour& f : flavours) {
    cv::Mat image(f.height, f.width, f.grey ? CV_8UC1 : CV_8UC3);
    for (int y = 0; y < f.height; ++y) {
      for (int x = 0; x < f.width; ++x) {
        for (int c = 0; c < image.channels(); ++c) {
          image.ptr<uint8_t>(y)[x * image.channels() + c] = static_cast<uint8_t>((x * 3 + y * 5 + c * 60) % 200 +
                                                                                 noise(rng));
        }
      }
    }
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(cv::imencode(".jpg", image, bytes, f.params));
    const absl::StatusOr<RgbImage> decoded = DecodeImageBytes(bytes, "frame.jpg");
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    cv::Mat bgr = cv::imdecode(bytes, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION), rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    ASSERT_EQ(decoded->width, rgb.cols);
    ASSERT_EQ(decoded->height, rgb.rows);
    const std::vector<uint8_t> expected(rgb.data, rgb.data + rgb.total() * 3);
    EXPECT_EQ(decoded->pixels, expected) << f.width << "x" << f.height << (f.grey ? " grey" : "");
  }
}

// The synthetic frames were written by cv::imencode(".jpg") before avsl encoded them itself: the same bytes, so the
// synthetic datasets (and every result measured on them) are unchanged.
TEST(ImageDecodeTest, EncodeJpegWritesCvImencodesBytes) {
  for (const auto& [width, height, quality] :
       std::vector<std::array<int, 3>>{{64, 64, 90}, {37, 23, 75}, {480, 360, 95}}) {
    const RgbImage im = NoiseImage(width, height, static_cast<unsigned>(width));
    absl::StatusOr<std::vector<uint8_t>> ours = EncodeJpeg(im, quality, "noise.jpg");
    ASSERT_TRUE(ours.ok()) << ours.status();
    cv::Mat bgr;
    cv::cvtColor(cv::Mat(height, width, CV_8UC3, const_cast<uint8_t*>(im.pixels.data())), bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> opencv;
    ASSERT_TRUE(cv::imencode(".jpg", bgr, opencv, {cv::IMWRITE_JPEG_QUALITY, quality}));
    EXPECT_EQ(*ours, opencv) << width << "x" << height << " quality " << quality;
  }
}

// A four-component (Adobe CMYK) JPEG, which OpenCV cannot write: libjpeg writes it, and avsl's RGB must be what
// cv::imdecode converts it to.
TEST(ImageDecodeTest, CmykJpegPixelsAreOpenCvs) {
  const int width = 23, height = 17;
  std::vector<uint8_t> cmyk(static_cast<size_t>(width) * height * 4);
  for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = static_cast<uint8_t>((i * 37 + i / 4 * 11) % 256);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr errors;
  cinfo.err = jpeg_std_error(&errors);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = width;
  cinfo.image_height = height;
  cinfo.input_components = 4;
  cinfo.in_color_space = JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, 90, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = cmyk.data() + static_cast<size_t>(cinfo.next_scanline) * width * 4;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  const std::vector<uint8_t> bytes(buffer, buffer + size);
  std::free(buffer);

  absl::StatusOr<RgbImage> ours = DecodeImageBytes(bytes, "cmyk.jpg");
  ASSERT_TRUE(ours.ok()) << ours.status();
  cv::Mat bgr = cv::imdecode(bytes, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION), rgb;
  ASSERT_FALSE(bgr.empty());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  ASSERT_EQ(ours->width, width);
  EXPECT_EQ(ours->pixels, std::vector<uint8_t>(rgb.data, rgb.data + rgb.total() * 3));
}

// PNG frames and pictures: decoded as cv::imdecode(IMREAD_COLOR) decodes them, for each kind OpenCV writes (RGB,
// RGBA: alpha dropped, grey, 16-bit: high byte, 1-bit grey), and encoded with its settings at compression 9.
TEST(ImageDecodeTest, PngPixelsAndBytesAreOpenCvs) {
  const RgbImage im = NoiseImage(41, 29, 7);
  cv::Mat bgr;
  cv::cvtColor(cv::Mat(im.height, im.width, CV_8UC3, const_cast<uint8_t*>(im.pixels.data())), bgr, cv::COLOR_RGB2BGR);
  cv::Mat bgra, grey, wide;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  bgr.convertTo(wide, CV_16UC3, 257.0, 3.0);
  struct Kind {
    const char* name;
    cv::Mat image;
    std::vector<int> params;
  };
  for (const Kind& k : std::vector<Kind>{{"rgb", bgr, {}},
                                         {"rgba", bgra, {}},
                                         {"grey", grey, {}},
                                         {"16-bit", wide, {}},
                                         {"bilevel", grey, {cv::IMWRITE_PNG_BILEVEL, 1}}}) {
    std::vector<uint8_t> bytes;
    ASSERT_TRUE(cv::imencode(".png", k.image, bytes, k.params)) << k.name;
    absl::StatusOr<RgbImage> ours = DecodeImageBytes(bytes, k.name);
    ASSERT_TRUE(ours.ok()) << ours.status();
    cv::Mat theirs_bgr = cv::imdecode(bytes, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION), theirs;
    cv::cvtColor(theirs_bgr, theirs, cv::COLOR_BGR2RGB);
    ASSERT_EQ(ours->width, theirs.cols) << k.name;
    EXPECT_EQ(ours->pixels, std::vector<uint8_t>(theirs.data, theirs.data + theirs.total() * 3)) << k.name;
  }
  // Encoding, on the small image and on a frame-sized one (deflate's block splitting depends on its buffers).
  for (const RgbImage& picture : {im, NoiseImage(480, 360, 11)}) {
    absl::StatusOr<std::vector<uint8_t>> ours = viz::EncodePng(picture, "noise.png");
    ASSERT_TRUE(ours.ok()) << ours.status();
    cv::Mat picture_bgr;
    cv::cvtColor(cv::Mat(picture.height, picture.width, CV_8UC3, const_cast<uint8_t*>(picture.pixels.data())),
                 picture_bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> opencv;
    ASSERT_TRUE(cv::imencode(".png", picture_bgr, opencv, {cv::IMWRITE_PNG_COMPRESSION, 9}));
    EXPECT_EQ(*ours, opencv) << picture.width << "x" << picture.height;
  }
}
#else
TEST(ImageDecodeTest, JpegPixelsAreOpenCvsForEveryFlavour) {
  GTEST_SKIP() << "this build has no OpenCV imgcodecs to compare avsl's JPEG and PNG codecs with";
}
#endif

TEST(ImageDecodeTest, MissingCorruptAndTruncatedNameTheFile) {
  const std::string missing = Tmp("no_such.jpg");
  auto a = DecodeImageFile(missing);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(a.status().message()).find(missing), std::string::npos) << a.status();

  const std::string garbage = Tmp("garbage.jpg");
  std::ofstream(garbage, std::ios::binary) << "definitely not a JPEG, just some text bytes";
  auto b = DecodeImageFile(garbage);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(b.status().message()).find(garbage), std::string::npos) << b.status();

  // A JPEG cut in half: OpenCV alone would return a grey-filled image; we report it.
  const std::string full = WriteJpeg("full.jpg", MarkedImage());
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string cut = Tmp("cut.jpg");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto c = DecodeImageFile(cut);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(c.status().message()).find(cut), std::string::npos) << c.status();

  // A JPEG signature followed by junk that ends in FF D9: passes the marker check, fails in the decoder.
  std::vector<uint8_t> junk = {0xFF, 0xD8, 0xFF, 0x01, 0x02, 0x03, 0x04, 0xFF, 0xD9};
  auto d = DecodeImageBytes(junk, "junk.jpg");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("junk.jpg"), std::string::npos) << d.status();
}

// The file is read in one call sized by stat(); what is not a regular file gets a clear error or a streamed read.
TEST(ImageDecodeTest, EmptyFilesDirectoriesAndPipesAreNamed) {
  const std::string empty = Tmp("empty.jpg");
  std::ofstream(empty, std::ios::binary).flush();
  auto a = DecodeImageFile(empty);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(std::string(a.status().message()).find(empty + ": 0 bytes, not an image"), std::string::npos) << a.status();

  const std::string dir = Tmp("a_directory.jpg");
  std::filesystem::create_directories(dir);
  auto b = DecodeImageFile(dir);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(b.status().message()).find(dir + ": is a directory"), std::string::npos) << b.status();

  // A named pipe has no size to read up front: it is streamed, and decodes like the file it carries.
  const std::string jpeg = WriteJpeg("piped_source.jpg", MarkedImage());
  const std::string fifo = Tmp("piped.jpg");
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  std::thread writer([&] {
    std::ifstream src(jpeg, std::ios::binary);
    std::ofstream(fifo, std::ios::binary) << src.rdbuf();
  });
  auto piped = DecodeImageFile(fifo);
  writer.join();
  auto direct = DecodeImageFile(jpeg);
  ASSERT_TRUE(piped.ok()) << piped.status();
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(piped->pixels, direct->pixels);
}

TEST(ImageDecodeTest, AHeaderDeclaringAHugeFrameIsRefusedBeforeDecoding) {
  // OpenCV allocates the whole frame first (found by fuzzing: tests/fuzz/regressions/image). A PNG signature and an
  // IHDR of 100000 x 100000, then nothing.
  std::vector<uint8_t> png = {0x89, 'P',  'N',  'G',  0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0x00,
                              0x01, 0x86, 0xA0, 0x00, 0x01, 0x86, 0xA0, 8,    2, 0, 0, 0,  0,   0,   0,   0};
  auto d = DecodeImageBytes(png, "huge.png");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("declares 100000x100000 pixels, above the 67108864"),
            std::string::npos)
      << d.status();
  // AVSL_MAX_IMAGE_PIXELS lowers or raises the bound: here a 1000-pixel bound refuses a 100000-pixel header (the
  // raised case would decode: this PNG has no data, so it fails later, in libpng, with another message).
  setenv("AVSL_MAX_IMAGE_PIXELS", "1000", 1);
  std::vector<uint8_t> small = png;
  for (int i : {16, 17, 18, 20, 21, 22}) small[i] = 0;
  small[19] = small[23] = 100;  // IHDR width and height (big-endian, bytes 16-23): 100 x 100
  auto lowered = DecodeImageBytes(small, "small.png");
  setenv("AVSL_MAX_IMAGE_PIXELS", "20000", 1);
  auto raised = DecodeImageBytes(small, "small.png");
  unsetenv("AVSL_MAX_IMAGE_PIXELS");
  ASSERT_FALSE(lowered.ok());
  EXPECT_NE(std::string(lowered.status().message()).find("declares 100x100 pixels, above the 1000"), std::string::npos)
      << lowered.status();
  EXPECT_EQ(std::string(raised.status().message()).find("above the"), std::string::npos) << raised.status();
}

TEST(ImageDecodeTest, StrayBytesBeforeAHugeFrameHeaderDoNotHideIt) {
  // libjpeg skips bytes that are not a marker ("extraneous bytes") and reads the SOF after them; so must the header
  // check (found by CI's fuzz smoke: tests/fuzz/regressions/image/image-oom-2ce9...). APP0 of length 4, two stray
  // bytes, FF fill, then SOF0 declaring 55551 rows of 18960 pixels.
  const std::vector<uint8_t> jpeg = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x4A, 0x46, 0x12, 0x34, 0xFF,
                                     0xFF, 0xC0, 0x00, 0x11, 0x08, 0xD8, 0xFF, 0x4A, 0x10, 0x03, 0x01,
                                     0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9};
  auto d = DecodeImageBytes(jpeg, "stray.jpg");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(std::string(d.status().message()).find("declares 18960x55551 pixels"), std::string::npos) << d.status();
}

TEST(ImageDecodeTest, FormatsOtherThanJpegAndPngAreRefusedByName) {
  // OpenCV would decode a BMP, sizing its buffer from the header (up to 2^30 pixels).
  const std::vector<uint8_t> bmp = {'B', 'M', 0x36, 0x00, 0x0C, 0x00, 0x00, 0x00, 0x00, 0x00};
  auto d = DecodeImageBytes(bmp, "frame.bmp");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(
      std::string(d.status().message()).find("image frame.bmp: not a JPEG or PNG file (it starts with 42 4d 36 00)"),
      std::string::npos)
      << d.status();
}

TEST(ImageDecodeTest, NearMissSignaturesNeverReachOpenCvsOtherDecoders) {
  // cv::imdecode offers bytes that its JPEG and PNG decoders do not claim to every other decoder; GDCM's DICOM reader
  // aborts the process on an assert for "DICM" at byte 128 (found by CI's fuzz smoke:
  // tests/fuzz/regressions/image/image-crash-6a34...). So SOI without the next marker's FF, or a PNG signature cut
  // after "PNG", is refused before OpenCV sees it.
  std::vector<uint8_t> jpeg_like(140, ',');
  jpeg_like[0] = 0xFF;
  jpeg_like[1] = 0xD8;
  jpeg_like[2] = 0x01;
  std::vector<uint8_t> png_like = jpeg_like;
  png_like[0] = 0x89;
  png_like[1] = 'P';
  png_like[2] = 'N';
  png_like[3] = 'G';
  for (auto* bytes : {&jpeg_like, &png_like}) {
    std::copy_n("DICM", 4, bytes->begin() + 128);
    (*bytes)[138] = 0xFF;
    (*bytes)[139] = 0xD9;
  }
  auto j = DecodeImageBytes(jpeg_like, "dicm.jpg");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(std::string(j.status().message()).find("dicm.jpg: not a JPEG or PNG file (it starts with ff d8 01 2c)"),
            std::string::npos)
      << j.status();
  auto p = DecodeImageBytes(png_like, "dicm.png");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("dicm.png: not a JPEG or PNG file (it starts with 89 50 4e 47)"),
            std::string::npos)
      << p.status();
}

TEST(ImageTransformTest, ShortSideResizeFollowsTorchvision) {
  // int(246 · 400 / 200) = 492; int(246 · 333 / 250) = int(327.672) = 327; square stays square.
  EXPECT_EQ(ShortSideResize(400, 200, 246), (std::array<int, 2>{492, 246}));
  EXPECT_EQ(ShortSideResize(250, 333, 246), (std::array<int, 2>{246, 327}));
  EXPECT_EQ(ShortSideResize(500, 500, 246), (std::array<int, 2>{246, 246}));
}

TEST(ImageTransformTest, BoxMapAndImageFollowTheSameGeometry) {
  const RgbImage im = MarkedImage();
  ImageGeometry g;
  g.source_width = 400;
  g.source_height = 200;
  g.resized_width = 492;  // scale 1.23 on both axes
  g.resized_height = 246;
  g.crop_x = 100;
  g.crop_y = 10;
  g.crop_width = g.crop_height = 224;
  g.flipped = true;
  // x: 100·1.23 − 100 = 23, 200·1.23 − 100 = 146, mirrored in 224: [224 − 146, 224 − 23] = [78, 201].
  // y: 50·1.23 − 10 = 51.5, 150·1.23 − 10 = 174.5.
  const auto box = TransformBox({100, 50, 200, 150}, g);
  EXPECT_DOUBLE_EQ(box[0], 78.0);
  EXPECT_DOUBLE_EQ(box[1], 51.5);
  EXPECT_DOUBLE_EQ(box[2], 201.0);
  EXPECT_DOUBLE_EQ(box[3], 174.5);

  Map2D gt(200, 400);
  for (int y = 50; y < 150; ++y)
    for (int x = 100; x < 200; ++x) gt.at(y, x) = 1.0;
  const Map2D m = TransformMap(gt, g);
  ASSERT_EQ(m.height, 224);
  ASSERT_EQ(m.width, 224);
  auto tensor = ApplyGeometry(im, g, Normalization{});
  ASSERT_TRUE(tensor.ok()) << tensor.status();
  // Every map pixel whose centre is well inside the box is 1 and the red channel there is saturated;
  // pixels well outside are 0 / grey. (Cubic ringing and nearest rounding make the 1-px border ambiguous.)
  const float red_norm = (1.0f - 0.485f) / 0.229f;
  for (int y = 0; y < 224; ++y) {
    for (int x = 0; x < 224; ++x) {
      const double cx = x + 0.5, cy = y + 0.5;
      const bool inside = cx > box[0] + 1.5 && cx < box[2] - 1.5 && cy > box[1] + 1.5 && cy < box[3] - 1.5;
      const bool outside = cx < box[0] - 1.5 || cx > box[2] + 1.5 || cy < box[1] - 1.5 || cy > box[3] + 1.5;
      if (inside) {
        ASSERT_EQ(m.at(y, x), 1.0) << x << "," << y;
        ASSERT_NEAR(tensor->at(0, y, x), red_norm, 0.05) << x << "," << y;
      } else if (outside) {
        ASSERT_EQ(m.at(y, x), 0.0) << x << "," << y;
        ASSERT_NEAR(tensor->at(0, y, x), (128.0f / 255 - 0.485f) / 0.229f, 0.05) << x << "," << y;
      }
    }
  }
}

TEST(ImageTransformTest, BoxOutsideCropBecomesEmpty) {
  ImageGeometry g;
  g.source_width = g.resized_width = 300;
  g.source_height = g.resized_height = 300;
  g.crop_x = 0;
  g.crop_y = 0;
  g.crop_width = g.crop_height = 224;
  const auto box = TransformBox({250, 10, 290, 50}, g);  // x entirely beyond 224 → clipped to [224, 224]
  EXPECT_DOUBLE_EQ(box[0], 224.0);
  EXPECT_DOUBLE_EQ(box[2], 224.0);
}

TEST(ImageTransformTest, TrainTransformIsDeterministicPerSeed) {
  const RgbImage im = MarkedImage();
  TrainTransformOptions o;
  std::mt19937_64 r1(42), r2(42);
  ImageGeometry g1, g2;
  auto a = TrainTransform(im, o, r1, &g1);
  auto b = TrainTransform(im, o, r2, &g2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->values, b->values);
  EXPECT_EQ(g1.crop_x, g2.crop_x);
  EXPECT_EQ(g1.crop_y, g2.crop_y);
  EXPECT_EQ(g1.flipped, g2.flipped);
  EXPECT_EQ(g1.resized_width, 492);
  EXPECT_EQ(g1.resized_height, 246);
  // Re-applying the returned geometry reproduces the tensor.
  auto c = ApplyGeometry(im, g1, o.norm);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(a->values, c->values);
  // Over 32 seeds the offsets stay in range [0, 492−224] × [0, 246−224] and both flip outcomes occur.
  int flips = 0;
  for (uint64_t seed = 0; seed < 32; ++seed) {
    std::mt19937_64 r(seed);
    auto g = SampleTrainGeometry(400, 200, o, r);
    ASSERT_TRUE(g.ok());
    EXPECT_LE(g->crop_x, 268);
    EXPECT_LE(g->crop_y, 22);
    flips += g->flipped;
  }
  EXPECT_GT(flips, 0);
  EXPECT_LT(flips, 32);
}

// ApplyGeometry crops, mirrors and normalizes in one pass; its values are, bit for bit, torchvision's ToTensor +
// Normalize of ApplyGeometryRgb's crop (OpenCV's resize, ROI and flip), on a noise frame in both orientations.
TEST(ImageTransformTest, TensorIsTheNormalizedRgbCropBitForBit) {
  RgbImage noise;
  noise.width = 480;
  noise.height = 360;
  noise.pixels.resize(480 * 360 * 3);
  std::mt19937 rng(7);
  for (uint8_t& v : noise.pixels) v = static_cast<uint8_t>(rng() & 0xFF);
  const Normalization n;
  for (const bool flipped : {false, true}) {
    for (const auto& [resized_w, resized_h] : {std::pair{328, 246}, std::pair{480, 360}, std::pair{285, 213}}) {
      ImageGeometry g;
      g.source_width = 480;
      g.source_height = 360;
      g.resized_width = resized_w;
      g.resized_height = resized_h;
      // The last size puts the crop against the right and bottom edges.
      g.crop_x = resized_w == 285 ? 285 - 224 : 61;
      g.crop_y = resized_w == 285 ? 213 - 200 : 13;
      g.crop_width = 224;
      g.crop_height = 200;
      g.flipped = flipped;
      const auto rgb = ApplyGeometryRgb(noise, g);
      const auto tensor = ApplyGeometry(noise, g, n);
      ASSERT_TRUE(rgb.ok()) << rgb.status();
      ASSERT_TRUE(tensor.ok()) << tensor.status();
      ASSERT_EQ(tensor->width, 224);
      ASSERT_EQ(tensor->height, 200);
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < 200; ++y) {
          for (int x = 0; x < 224; ++x) {
            const uint8_t v = rgb->pixels[(static_cast<size_t>(y) * 224 + x) * 3 + c];
            const float expected = (static_cast<float>(v) / 255.0f - n.mean[c]) / n.std[c];
            ASSERT_EQ(tensor->at(c, y, x), expected) << "c " << c << " y " << y << " x " << x << " flip " << flipped;
          }
        }
      }
    }
  }
}

TEST(ImageTransformTest, TestTransformSquashesAndNormalizes) {
  RgbImage flat;
  flat.width = 320;
  flat.height = 240;
  flat.pixels.assign(320 * 240 * 3, 0);
  for (size_t i = 0; i < flat.pixels.size(); i += 3) {
    flat.pixels[i] = 255;
    flat.pixels[i + 1] = 0;
    flat.pixels[i + 2] = 51;
  }
  auto t = TestTransform(flat);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->channels, 3);
  EXPECT_EQ(t->height, 224);
  EXPECT_EQ(t->width, 224);
  // A constant image stays constant under cubic resize: R = (1 − 0.485)/0.229 = 2.24891,
  // G = −0.456/0.224 = −2.03571, B = (0.2 − 0.406)/0.225 = −0.91556.
  EXPECT_NEAR(t->at(0, 100, 37), 2.248908, 1e-5);
  EXPECT_NEAR(t->at(1, 0, 0), -2.035714, 1e-5);
  EXPECT_NEAR(t->at(2, 223, 223), -0.915556, 1e-5);
}

TEST(ImageTransformTest, RejectsTooSmallResizeAndMismatchedGeometry) {
  TrainTransformOptions o;
  o.resize_short_side = 200;  // < crop 224
  std::mt19937_64 r(1);
  EXPECT_FALSE(SampleTrainGeometry(400, 300, o, r).ok());
  ImageGeometry g = TestGeometry(10, 10, TestTransformOptions{});
  EXPECT_FALSE(ApplyGeometry(MarkedImage(), g, Normalization{}).ok());
}

}  // namespace
}  // namespace avsl::data
