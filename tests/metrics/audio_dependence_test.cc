#include "avsl/metrics/audio_dependence.h"
#include "avsl/metrics/pointing.h"

#include <cmath>

#include "gtest/gtest.h"

namespace avsl::metrics {
namespace {

Map2D PeakAt(int index) {
  Map2D m(2, 2, 0.1);
  m.values[static_cast<size_t>(index)] = 0.9;
  return m;
}

TEST(AudioDependenceTest, CountsPairedFramesWhosePeakMoves) {
  AudioDependence d;
  d.Add("a", true, PeakAt(0));
  d.Add("a", false, PeakAt(3));  // moves
  d.Add("b", true, PeakAt(1));
  d.Add("b", false, PeakAt(1));  // stays
  d.Add("c", false, PeakAt(2));  // silent only: not a pair
  d.Add("e", true, PeakAt(2));   // sounding only: not a pair
  const AudioDependenceResult r = d.Finalize();
  EXPECT_EQ(r.pairs, 2);
  EXPECT_EQ(r.moved, 1);
  EXPECT_DOUBLE_EQ(r.rate(), 0.5);
}

TEST(AudioDependenceTest, AConstantMapNeverMovesAndTiesTakeTheFirstMaximum) {
  AudioDependence d;
  d.Add("a", true, Map2D(2, 2, 0.5));
  d.Add("a", false, Map2D(2, 2, 0.7));  // both constant: the peak is pixel 0 for both
  Map2D tie(2, 2, 0.0);
  tie.values = {0.2, 0.9, 0.9, 0.1};  // first maximum: index 1
  d.Add("b", true, tie);
  d.Add("b", false, PeakAt(1));
  EXPECT_EQ(d.Finalize().pairs, 2);
  EXPECT_EQ(d.Finalize().moved, 0);
}

TEST(AudioDependenceTest, OnlyTheFirstSampleOfAFrameAndKindCounts) {
  AudioDependence d;
  d.Add("a", true, PeakAt(0));
  d.Add("a", true, PeakAt(3));  // a second sounding clip of the same frame is ignored
  d.Add("a", false, PeakAt(0));
  EXPECT_EQ(d.Finalize().moved, 0);
}

TEST(AudioDependenceTest, NoPairsIsNaN) {
  AudioDependence d;
  d.Add("a", true, PeakAt(0));
  EXPECT_EQ(d.Finalize().pairs, 0);
  EXPECT_TRUE(std::isnan(d.Finalize().rate()));
}

TEST(PeakIndexTest, FirstRowMajorMaximum) {
  Map2D m(2, 3, 0.0);
  m.values = {0.1, 0.4, 0.2, 0.4, 0.3, 0.0};
  EXPECT_EQ(PeakIndex(m), 1u);
}

}  // namespace
}  // namespace avsl::metrics
