// SplitMix64 (Steele, Lea and Flood 2014), the one source of the learn component's seeded draws
// (shuffles, dates, triplets, episodes): the same on every platform and thread count.
#pragma once

#include <cstdint>

namespace sbench::learn {

// The finalizer of z + the golden gamma: a well-mixed function of z.
inline std::uint64_t mix64(std::uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// The next value of the stream whose state is `state` (advanced).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  const std::uint64_t z = mix64(state);
  state += 0x9E3779B97F4A7C15ULL;
  return z;
}

}  // namespace sbench::learn
