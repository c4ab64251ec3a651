#include "avsl/synth/class_catalogue.h"

#include <cmath>
#include <set>
#include <tuple>

#include "gtest/gtest.h"

namespace avsl {
namespace synth {
namespace {

TEST(ClassCatalogueTest, DefaultHasTwentyDistinctClassesHalfHeard) {
  auto cat = ClassCatalogue::Create(CatalogueOptions{});
  ASSERT_TRUE(cat.ok()) << cat.status();
  ASSERT_EQ(cat->size(), 20);
  std::set<std::string> names;
  std::set<std::tuple<int, int, int, int>> looks;  // shape, texture, r*1000
  for (const ClassSpec& c : cat->classes()) {
    names.insert(c.name);
    looks.insert({static_cast<int>(c.shape), static_cast<int>(c.texture), static_cast<int>(c.rgb[0] * 1000),
                  static_cast<int>(c.rgb[1] * 1000)});
  }
  EXPECT_EQ(names.size(), 20u);
  EXPECT_EQ(looks.size(), 20u);
  EXPECT_EQ(cat->HeardIds().size(), 10u);
  EXPECT_EQ(cat->UnheardIds().size(), 10u);
  // Class 0 is the first shape and colour; texture (0 + 0 + 0) % 3 = solid.
  EXPECT_EQ(cat->at(0).name, "red disk");
  // Class 6: shape 6 % 5 = 1 (square), colour 6 / 5 = 1 (green), texture (0 + 1 + 1) % 3 = 2 (checkered).
  EXPECT_EQ(cat->at(6).name, "green checkered square");
  EXPECT_TRUE(cat->at(6).heard);
  EXPECT_FALSE(cat->at(7).heard);
}

TEST(ClassCatalogueTest, PitchIsLogSpacedBetweenTheLimits) {
  auto cat = ClassCatalogue::Create(CatalogueOptions{});
  ASSERT_TRUE(cat.ok());
  EXPECT_NEAR(cat->at(0).f0_hz, 150.0, 1e-9);
  EXPECT_NEAR(cat->at(19).f0_hz, 2000.0, 1e-9);
  // Equal ratios between neighbours: (2000/150)^(1/19) = 1.14592...
  const double ratio = std::pow(2000.0 / 150.0, 1.0 / 19.0);
  for (int k = 1; k < 20; ++k) EXPECT_NEAR(cat->at(k).f0_hz / cat->at(k - 1).f0_hz, ratio, 1e-9);
  // Class 4: rolloff index 4 % 3 = 1 -> 1.0; odd-only when (4 / 3) % 2 == 1 -> true; AM 4 % 4 = 0 -> 0 Hz.
  EXPECT_EQ(cat->at(4).rolloff, 1.0);
  EXPECT_TRUE(cat->at(4).odd_only);
  EXPECT_EQ(cat->at(4).am_hz, 0.0);
}

TEST(ClassCatalogueTest, LargestCatalogueStaysUnique) {
  CatalogueOptions o;
  o.num_classes = kMaxClasses;
  auto cat = ClassCatalogue::Create(o);
  ASSERT_TRUE(cat.ok());
  std::set<std::string> names;
  for (const ClassSpec& c : cat->classes()) names.insert(c.name);
  EXPECT_EQ(names.size(), static_cast<size_t>(kMaxClasses));
}

TEST(ClassCatalogueTest, RejectsBadOptionsNamingTheKey) {
  CatalogueOptions o;
  o.num_classes = kMaxClasses + 1;
  auto cat = ClassCatalogue::Create(o);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("num_classes: got 61"), std::string::npos) << cat.status();
  o.num_classes = 1;
  EXPECT_FALSE(ClassCatalogue::Create(o).ok());
  o = CatalogueOptions{};
  o.f0_max_hz = 100.0;
  cat = ClassCatalogue::Create(o);
  ASSERT_FALSE(cat.ok());
  EXPECT_NE(cat.status().message().find("f0_min_hz/f0_max_hz"), std::string::npos) << cat.status();
}

}  // namespace
}  // namespace synth
}  // namespace avsl
