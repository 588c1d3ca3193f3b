#pragma once

#include <string>

namespace sbench {

// The toolkit's version, as in the top-level CMakeLists.txt (project VERSION).
std::string version();

}  // namespace sbench
