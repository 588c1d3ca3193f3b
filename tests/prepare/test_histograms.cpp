// Crop-yield histogram features: a hand-built raster whose histogram is known, and random regions
// (edge values included) against numpy.histogram with the release's bin edges.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sbench/core/npy.hpp"
#include "sbench/prepare/histograms.hpp"
#include "test_support.hpp"

namespace sbench::prepare {
namespace {

TEST(CropYieldCalendar, SeasonsAreTheReleaseBlocksOfFortyFive) {
  // Worked by hand in docs/research/crop_yield_pipeline.md (section 1 table): the composites and
  // dates of harvest years 2003, 2010 and 2016 for the USA/Argentina (offset 6) and Brazil (3).
  EXPECT_EQ(modis_composite_date(0), "2002-08-05");
  EXPECT_EQ(crop_yield_offset("usa"), 6);
  EXPECT_EQ(crop_yield_offset("argentina"), 6);
  EXPECT_EQ(crop_yield_offset("brazil"), 3);
  EXPECT_EQ(crop_yield_composite(6, 2010, 0), 321);
  EXPECT_EQ(crop_yield_composite(6, 2010, 31), 352);
  EXPECT_EQ(crop_yield_composite(3, 2010, 0), 318);
  EXPECT_EQ(modis_composite_date(6), "2002-09-22");
  EXPECT_EQ(modis_composite_date(37), "2003-05-25");
  EXPECT_EQ(modis_composite_date(321), "2009-07-28");  // day of year 209 of 2009
  EXPECT_EQ(modis_composite_date(352), "2010-03-30");  // day 89 of 2010
  EXPECT_EQ(modis_composite_date(318), "2009-07-04");
  EXPECT_EQ(modis_composite_date(349), "2010-03-06");
  EXPECT_EQ(modis_composite_date(591), "2015-06-10");
  EXPECT_EQ(modis_composite_date(622), "2016-02-10");
  EXPECT_EQ(modis_composite_date(662), "2016-12-26");  // the last of the release's 663
  EXPECT_EQ(modis_composite_date(18), "2002-12-27");   // day 361, then the next year's first
  EXPECT_EQ(modis_composite_date(19), "2003-01-01");
  EXPECT_EQ(modis_composite_date(256), "2008-02-26");  // a leap year: 2008-02-29 is inside
  EXPECT_EQ(modis_composite_date(260), "2008-03-29");  // day of year 89 = March 29 in 2008
  for (int t : {0, 6, 18, 19, 256, 260, 321, 352, 662}) EXPECT_EQ(modis_composite_index(modis_composite_date(t)), t);
  EXPECT_EQ(modis_composite_index("2009-07-29"), -1);  // not the first day of a composite
  EXPECT_EQ(modis_composite_index("2002-07-28"), -1);  // before the first
  // Land cover: USA 2010 steps 0-26 use 2009, steps 27-31 use 2010; Brazil 2010 steps 0-29 use
  // 2009 and 30-31 use 2010 (section 2); the first composites use 2002.
  for (int s = 0; s < 32; ++s) {
    EXPECT_EQ(crop_yield_cover_year(crop_yield_composite(6, 2010, s)), s <= 26 ? 2009 : 2010) << s;
    EXPECT_EQ(crop_yield_cover_year(crop_yield_composite(3, 2010, s)), s <= 29 ? 2009 : 2010) << s;
  }
  EXPECT_EQ(crop_yield_cover_year(0), 2002);
  EXPECT_EQ(crop_yield_cover_year(32), 2002);
  EXPECT_EQ(crop_yield_cover_year(33), 2003);
}

TEST(Histograms, HandBuiltPixelsFallInTheirBins) {
  // One step, one band, bins [1, 2), [2, 3), ..., [32, 33] (the last one closed).
  const HistogramSpec spec({BinRange{1, 33}}, 32);
  const std::vector<std::uint16_t> v = {1, 1, 2, 5, 31, 32, 33, 34, 0, 7};
  const std::vector<std::uint8_t> crop = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0};  // the 7 is not cropland
  std::vector<double> out(32);
  region_histograms(v.data(), 1, 1, v.size(), crop.data(), spec, out.data());
  // In range: 1, 1, 2, 5, 31, 32, 33 (34 above, 0 below, the 7 zeroed): 7 pixels.
  std::vector<double> want(32, 0.0);
  want[0] = 2.0 / 7;
  want[1] = 1.0 / 7;
  want[4] = 1.0 / 7;
  want[30] = 1.0 / 7;
  want[31] = 2.0 / 7;
  EXPECT_EQ(out, want);
  // Empty: all zero.
  const std::vector<std::uint16_t> none = {0, 40, 50};
  region_histograms(none.data(), 1, 1, none.size(), nullptr, spec, out.data());
  EXPECT_EQ(out, std::vector<double>(32, 0.0));
  // NDVI of (red, nir) pairs (10, 30), (0, 0) skipped, (20, 20): mean of 0.5 and 0.
  const std::vector<std::uint16_t> rn = {10, 0, 20, 30, 0, 20};  // band 0 then band 1
  double ndvi = 0;
  region_ndvi(rn.data(), 1, 2, 3, nullptr, 0, 1, &ndvi);
  EXPECT_DOUBLE_EQ(ndvi, 0.25);
}

TEST(Histograms, EqualNumpyWithTheReleaseEdges) {
  const auto& r = crop_yield_bin_ranges();
  const HistogramSpec spec(std::vector<BinRange>(r.begin(), r.end()), 32);
  const std::size_t regions = 6, steps = 32, bands = 9, pixels = 700;
  std::mt19937 rng(5);
  std::vector<std::uint16_t> values(regions * steps * bands * pixels);
  std::uniform_int_distribution<int> u(0, 17000), pick(0, 9);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::size_t b = (i / pixels) % bands;
    // A tenth of the values sit on a bin edge (rounded): the cases where the index needs correcting.
    if (pick(rng) == 0) {
      const auto e = histogram_edges(r[b], 32);
      values[i] = static_cast<std::uint16_t>(std::round(e[static_cast<std::size_t>(u(rng)) % e.size()]));
    } else {
      values[i] = static_cast<std::uint16_t>(u(rng));
    }
  }
  std::vector<std::uint8_t> crop(regions * pixels);
  for (auto& c : crop) c = pick(rng) < 7 ? 1 : 0;
  crop[0 * pixels + 0] = 1;
  std::fill(crop.begin() + static_cast<std::ptrdiff_t>(5 * pixels), crop.end(), 0);  // region 5: no cropland
  test::TempDir dir;
  write_npy(dir / "v.npy", NpyArray::from({static_cast<std::int64_t>(regions), static_cast<std::int64_t>(steps),
                                           static_cast<std::int64_t>(bands), static_cast<std::int64_t>(pixels)},
                                          values));
  write_npy(dir / "c.npy",
            NpyArray::from({static_cast<std::int64_t>(regions), static_cast<std::int64_t>(pixels)}, crop));
  test::run_python("hist_reference.py", {(dir / "v.npy").string(), (dir / "c.npy").string(), (dir / "h.npy").string(),
                                         (dir / "n.npy").string()});
  const auto want_h = read_npy(dir / "h.npy").to_vector<double>();
  const auto want_n = read_npy(dir / "n.npy").to_vector<double>();
  std::vector<double> h(32 * steps * bands), n(steps);
  std::size_t differ = 0;
  for (std::size_t g = 0; g < regions; ++g) {
    const std::uint16_t* v = values.data() + g * steps * bands * pixels;
    region_histograms(v, steps, bands, pixels, crop.data() + g * pixels, spec, h.data());
    region_ndvi(v, steps, bands, pixels, crop.data() + g * pixels, 0, 1, n.data());
    for (std::size_t k = 0; k < h.size(); ++k) differ += h[k] != want_h[g * h.size() + k];
    for (std::size_t t = 0; t < steps; ++t) {
      const double w = want_n[g * steps + t];
      if (std::isnan(w)) {
        EXPECT_TRUE(std::isnan(n[t])) << g << "," << t;
      } else {
        EXPECT_NEAR(n[t], w, 1e-12) << g << "," << t;
      }
    }
  }
  EXPECT_EQ(differ, 0u);
}

}  // namespace
}  // namespace sbench::prepare
