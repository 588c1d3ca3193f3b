#include "sbench/core/sysinfo.hpp"

#include <fmt/format.h>
#include <sched.h>
#include <spdlog/version.h>
#include <zip.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <thread>

namespace sbench {

std::vector<DependencyInfo> core_dependencies() {
  std::vector<DependencyInfo> out;
  out.push_back(
      {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100), "", ""});
  out.push_back({"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH), "", ""});
  out.push_back(
      {"nlohmann-json",
       fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH),
       "", ""});
  out.push_back({"libzip", LIBZIP_VERSION, zip_libzip_version(), ""});
  out.push_back({"zlib", ZLIB_VERSION, zlibVersion(), ""});
  return out;
}

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw > 0 ? static_cast<int>(hw) : 1;
}

}  // namespace sbench
