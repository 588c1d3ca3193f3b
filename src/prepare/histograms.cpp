#include "sbench/prepare/histograms.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <utility>

namespace sbench::prepare {

const std::array<BinRange, 9>& crop_yield_bin_ranges() {
  static const std::array<BinRange, 9> r = {BinRange{1, 2200},   BinRange{900, 4999},    BinRange{1, 1250},
                                            BinRange{150, 1875}, BinRange{750, 4999},    BinRange{300, 4999},
                                            BinRange{1, 4999},   BinRange{13000, 16500}, BinRange{13000, 15500}};
  return r;
}

std::vector<double> histogram_edges(const BinRange& r, int bins) {
  // numpy.linspace: lo + k * step, the last one exactly hi.
  std::vector<double> e(static_cast<std::size_t>(bins) + 1);
  const double step = (r.hi - r.lo) / bins;
  for (int k = 0; k <= bins; ++k) e[static_cast<std::size_t>(k)] = r.lo + k * step;
  e.back() = r.hi;
  return e;
}

int histogram_bin(double v, const BinRange& r, int bins, const std::vector<double>& edges) {
  if (!(r.hi > r.lo) || bins < 1) return -1;  // an empty range has no bins
  if (!(v >= r.lo && v <= r.hi)) return -1;
  // numpy's _search_sorted-free path for uniform bins: the index from the scaled value, then
  // corrected against the actual edges.
  const double norm = bins / (r.hi - r.lo);
  int k = static_cast<int>((v - r.lo) * norm);
  if (k == bins) k = bins - 1;
  if (v < edges[static_cast<std::size_t>(k)]) --k;
  if (k != bins - 1 && v >= edges[static_cast<std::size_t>(k) + 1]) ++k;
  return k;
}

HistogramSpec::HistogramSpec(std::vector<BinRange> r, int b) : ranges(std::move(r)), bins(b) {
  bin_of.resize(ranges.size());
  for (std::size_t k = 0; k < ranges.size(); ++k) {
    const auto edges = histogram_edges(ranges[k], bins);
    bin_of[k].resize(65536);
    for (std::size_t v = 0; v < 65536; ++v) {
      bin_of[k][v] = static_cast<std::int16_t>(histogram_bin(static_cast<double>(v), ranges[k], bins, edges));
    }
  }
}

void region_histograms(const std::uint16_t* values, std::size_t steps, std::size_t bands, std::size_t pixels,
                       const std::uint8_t* crop, const HistogramSpec& spec, double* out) {
  if (bands > spec.bin_of.size()) {
    throw std::invalid_argument("region_histograms: more bands than the histogram spec has ranges");
  }
  const std::size_t nb = static_cast<std::size_t>(spec.bins);
  std::fill(out, out + nb * steps * bands, 0.0);
  // Out-of-range values go to an extra bin (index `bins`) that is not reported: no branch per pixel.
  // Four count arrays side by side so that runs of equal bins do not wait on each other.
  std::vector<std::uint32_t> counts(4 * (nb + 1));
  std::vector<std::uint16_t> zeroed(crop ? pixels : 0);
  for (std::size_t t = 0; t < steps; ++t) {
    for (std::size_t b = 0; b < bands; ++b) {
      std::fill(counts.begin(), counts.end(), 0u);
      const std::uint16_t* px = values + (t * bands + b) * pixels;
      if (crop) {
        // A non-crop pixel is zeroed as the release does; zero then falls in a bin only for a band
        // whose range starts at 0 (none of the release's).
        for (std::size_t p = 0; p < pixels; ++p) zeroed[p] = crop[p] ? px[p] : 0;
        px = zeroed.data();
      }
      const std::int16_t* l = spec.bin_of[b].data();
      const std::size_t stride = nb + 1;
      std::size_t p = 0;
      for (; p + 4 <= pixels; p += 4) {
        for (std::size_t j = 0; j < 4; ++j) {
          const int k = l[px[p + j]];
          ++counts[j * stride + static_cast<std::size_t>(k < 0 ? static_cast<int>(nb) : k)];
        }
      }
      for (; p < pixels; ++p) {
        const int k = l[px[p]];
        ++counts[static_cast<std::size_t>(k < 0 ? static_cast<int>(nb) : k)];
      }
      std::uint32_t total = 0;
      for (std::size_t k = 0; k < nb; ++k) {
        counts[k] += counts[stride + k] + counts[2 * stride + k] + counts[3 * stride + k];
        total += counts[k];
      }
      for (std::size_t k = 0; k < nb; ++k) {
        out[(k * steps + t) * bands + b] = total ? static_cast<double>(counts[k]) / total : 0.0;
      }
    }
  }
}

void region_ndvi(const std::uint16_t* values, std::size_t steps, std::size_t bands, std::size_t pixels,
                 const std::uint8_t* crop, std::size_t red, std::size_t nir, double* out) {
  for (std::size_t t = 0; t < steps; ++t) {
    const std::uint16_t* r = values + (t * bands + red) * pixels;
    const std::uint16_t* n = values + (t * bands + nir) * pixels;
    double sum = 0;
    std::size_t count = 0;
    for (std::size_t p = 0; p < pixels; ++p) {
      if (crop && !crop[p]) continue;
      const double a = r[p], b = n[p];
      if (a > 0 || b > 0) {
        sum += (b - a) / (b + a);
        ++count;
      }
    }
    out[t] = count ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
  }
}

namespace {

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

}  // namespace

int crop_yield_offset(const std::string& country) {
  return country == "brazil" ? 3 : 6;
}

int crop_yield_composite(int offset, int year, int step) {
  return offset + 45 * (year - 2003) + step;
}

std::string modis_composite_date(int t) {
  if (t < 0) throw std::invalid_argument("composite index before 2002-08-05");
  const int g = 27 + t;  // 2002-08-05 is day of year 217 = 1 + 8 * 27
  const int year = 2002 + g / 46;
  int doy = 1 + 8 * (g % 46);
  static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int month = 0;
  for (; month < 12; ++month) {
    const int len = month_days[month] + (month == 1 && leap(year) ? 1 : 0);
    if (doy <= len) break;
    doy -= len;
  }
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", year, month + 1, doy);
  return text;
}

int modis_composite_index(const std::string& date) {
  int y = 0, m = 0, d = 0;
  if (std::sscanf(date.c_str(), "%d-%d-%d", &y, &m, &d) != 3 || y < 2002 || m < 1 || m > 12 || d < 1) return -1;
  static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int doy = d;
  for (int k = 0; k + 1 < m; ++k) doy += month_days[k] + (k == 1 && leap(y) ? 1 : 0);
  if ((doy - 1) % 8 != 0 || doy > 361) return -1;
  const int g = 46 * (y - 2002) + (doy - 1) / 8;
  return g >= 27 ? g - 27 : -1;
}

int crop_yield_cover_year(int t) {
  const int k = t >= 33 ? (t - 33) / 45 : -((33 - t + 44) / 45);  // floor division
  return 2003 + k;
}

}  // namespace sbench::prepare
