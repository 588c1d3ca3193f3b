// What the benchmarks share: running a peer command and timing.
#pragma once

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace sbench::bench {

// Runs a shell command and returns its standard output; a failure to start or a non-zero exit
// throws, naming the command.
inline std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  char buf[1024];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0) throw std::runtime_error("failed: " + command);
  return out;
}

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace sbench::bench
