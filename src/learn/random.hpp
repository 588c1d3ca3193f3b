// SplitMix64 (Steele, Lea and Flood 2014), the one source of the learn component's seeded draws
// (shuffles, dates, triplets, episodes): the same on every platform and thread count.
#pragma once

#include <cstdint>

#include "sbench/core/hash.hpp"

namespace sbench::learn {

// The next value of the stream whose state is `state` (advanced).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  const std::uint64_t z = mix64(state);
  state += 0x9E3779B97F4A7C15ULL;
  return z;
}

}  // namespace sbench::learn
