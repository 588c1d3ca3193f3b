// The crop-yield features of SustainBench (SUSTAINBENCH.md 2.C, after Wang et al. 2018 and You et
// al. 2017): per region and season, a 32-bin histogram of each MODIS band at each 8-day step over
// the region's cropland pixels, normalised to sum to 1 (0 when empty), and the mean NDVI per step.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sbench::prepare {

// Equal-width bins from `lo` to `hi` (numpy's linspace(lo, hi, bins + 1) edges).
struct BinRange {
  double lo = 0, hi = 0;
};

// The 9 bands of the release in order (MOD09A1 b01-b07, MYD11A2 LST day and night) with the edges
// of `WANG:code/constants.py` HIST_BINS_LIST: b1 1-2200, b2 900-4999, b3 1-1250, b4 150-1875,
// b5 750-4999, b6 300-4999, b7 1-4999, LST day 13000-16500, LST night 13000-15500.
const std::array<BinRange, 9>& crop_yield_bin_ranges();

// The bin of v as numpy.histogram(a, bins=linspace(lo, hi, bins + 1)) puts it: bins are
// [e_k, e_k+1), the last one closed; -1 outside [lo, hi] or NaN. Equal to numpy's, edge cases
// included (it computes the index the same way and corrects it against the edges).
int histogram_bin(double v, const BinRange& r, int bins, const std::vector<double>& edges);
std::vector<double> histogram_edges(const BinRange& r, int bins);  // numpy.linspace's values

// The bins of every band for every 16-bit raw value, computed once (a lookup per pixel after).
struct HistogramSpec {
  HistogramSpec(std::vector<BinRange> ranges, int bins);
  std::vector<BinRange> ranges;
  int bins = 32;
  std::vector<std::vector<std::int16_t>> bin_of;  // [band][raw value] -> bin or -1
};

// Histograms of one region and season. `values` is (steps, bands, pixels) of raw integer values
// (the release's export clips reflectance to [0, 5000], so none is negative), `crop` (pixels)
// marks the cropland pixels (nullptr: all). `out` is (bins, steps, bands) as the release's hists
// (bins first), each (step, band) column divided by its count (0 when empty), as numpy.histogram
// with the edges of linspace(lo, hi, bins + 1) gives them.
void region_histograms(const std::uint16_t* values, std::size_t steps, std::size_t bands, std::size_t pixels,
                       const std::uint8_t* crop, const HistogramSpec& spec, double* out);

// Mean NDVI per step, (b2 - b1) / (b2 + b1) over the cropland pixels with b1 > 0 or b2 > 0, from
// bands `red` and `nir` of `values` (as above); NaN for a step without such pixels.
void region_ndvi(const std::uint16_t* values, std::size_t steps, std::size_t bands, std::size_t pixels,
                 const std::uint8_t* crop, std::size_t red, std::size_t nir, double* out);

// The release's season calendar (WANG:code/make_datasets.py and histograms.py, worked through in
// docs/research/crop_yield_pipeline.md section 1). Composites are numbered t = 0, 1, ... on the MODIS
// 8-day grid from 2002-08-05 (the first MYD11A2 composite the release pulled), 46 per calendar year.
// The season of harvest year Y is the 32 composites t = offset + 45 (Y - 2003) + s, s = 0..31: the
// release cuts its stacks into blocks of 45, not 46, so its window moves 8 days earlier each year;
// the offset is 3 for Brazil and 6 otherwise (calculate_offset).
constexpr int kCropYieldSteps = 32;
int crop_yield_offset(const std::string& country);
int crop_yield_composite(int offset, int year, int step);
// The first day of composite t, YYYY-MM-DD (t = 0: 2002-08-05, day of year 1 + 8 k); t >= 0.
std::string modis_composite_date(int t);
// The composite index of a date on the 8-day grid, or -1 when the date is not the first day of a
// composite on or after 2002-08-05.
int modis_composite_index(const std::string& date);
// The MCD12Q1 year whose cropland masks composite t (mask_image: blocks of 45 counted from the
// stack's end, T = 663 composites to 2016-12-26): 2003 + floor((t - 33) / 45). The release had the
// years 2001-2013 and used 2013 for later ones; prepare takes the nearest year it has.
int crop_yield_cover_year(int t);

}  // namespace sbench::prepare
