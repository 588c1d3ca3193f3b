// The LibTorch side of the CLI, built as a module that the sbench executable loads with dlopen
// only when a command needs LibTorch: LibTorch's static initialisers cost about 0.6 s, which every
// other command (tile, eval, import, ...) would otherwise pay at start-up (docs/build.md).
#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "sbench/learn/torch_env.hpp"

extern "C" {

// Sets LibTorch's threads and writes {"compiled", "runtime", "notes", "threads"} as JSON into
// out (NUL-terminated, at most cap bytes). Returns 0, or 1 when out is too small.
__attribute__((visibility("default"))) int sbench_torch_doctor(int threads, char* out, std::size_t cap) {
  const int set = sbench::learn::configure_threads(threads);
  const sbench::DependencyInfo info = sbench::learn::torch_info();
  const std::string j = nlohmann::json{
      {"compiled", info.compiled},
      {"runtime", info.runtime},
      {"notes", info.notes},
      {"threads", set}}.dump();
  if (j.size() + 1 > cap) return 1;
  std::memcpy(out, j.c_str(), j.size() + 1);
  return 0;
}
}
