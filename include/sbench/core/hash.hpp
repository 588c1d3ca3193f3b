// Hashes that give the same number on every platform and compiler (std::hash does not), for what
// must be reproducible: splits, the sampled pixels and points of the builders, training draws.
#pragma once

#include <cstdint>
#include <string_view>

namespace sbench {

// FNV-1a, 64 bits.
inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// SplitMix64's output function (Steele, Lea and Flood 2014): the golden-ratio increment, then its
// finalizer; a well-mixed function of x.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace sbench
