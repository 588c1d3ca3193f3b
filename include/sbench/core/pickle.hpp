// Reads numpy arrays and numpy.ma masked arrays from Python pickles (the binary protocols 1 and 2, as
// pickle.dump of numpy objects writes them, in Python 2 or 3), without Python and without
// executing anything: a small interpreter understands exactly the opcodes and the five globals
// that such pickles use, and refuses everything else with an error naming the file, the opcode
// and its offset. The crop_type_kenya release stores its per-field series this way.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sbench/core/npy.hpp"

namespace sbench {

struct MaskedArray {
  NpyArray data;                   // native byte order, C order
  std::vector<std::uint8_t> mask;  // one per element, 1 = masked; empty when nothing is masked
};

// A pickled numpy.ndarray (mask empty) or numpy.ma.MaskedArray.
MaskedArray read_pickled_array(const std::filesystem::path& path);
MaskedArray parse_pickled_array(const std::byte* data, std::size_t size, const std::string& context);

}  // namespace sbench
