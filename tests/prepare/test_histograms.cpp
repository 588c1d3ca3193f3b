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
