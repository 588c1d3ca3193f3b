// What `sbench doctor` reports: the versions of the libraries a component was built against and
// runs with, and the cores this process may use.
#pragma once

#include <string>
#include <vector>

namespace sbench {

struct DependencyInfo {
  std::string name;
  std::string compiled;  // version of the headers at build time
  std::string runtime;   // version reported by the loaded library, when it tells
  std::string notes;
};

// fmt, spdlog, nlohmann-json, CLI11 is the app's; libzip and zlib.
std::vector<DependencyInfo> core_dependencies();

// CPUs this process may run on (its affinity mask), at least 1.
int available_cores();

}  // namespace sbench
