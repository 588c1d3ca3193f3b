// Progress reporting for long calls. Every long library call takes a ProgressFn; the library
// default does nothing, the CLI draws a terminal bar, and -q silences it (as GDALProgressFunc).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "sbench/core/error.hpp"

namespace sbench {

// done and total count units of work (total 0 = unknown); label names the work.
// Returns false to ask the call to stop; the call then throws Cancelled.
using ProgressFn = std::function<bool(std::uint64_t done, std::uint64_t total, std::string_view label)>;

class Cancelled : public Error {
 public:
  Cancelled() : Error("cancelled") {}
};

// The library default: reports nothing, never cancels.
ProgressFn no_progress();

// Shares one callback between threads: workers call advance(), the callback runs for the
// first and last unit and otherwise at most every `interval`, never concurrently.
class ProgressCounter {
 public:
  ProgressCounter(ProgressFn fn, std::uint64_t total, std::string label,
                  std::chrono::milliseconds interval = std::chrono::milliseconds(100));

  // Adds n finished units; throws Cancelled when the callback asks to stop.
  void advance(std::uint64_t n = 1);
  std::uint64_t done() const { return done_.load(); }

 private:
  ProgressFn fn_;
  std::uint64_t total_;
  std::string label_;
  std::chrono::steady_clock::duration interval_;
  std::atomic<std::uint64_t> done_{0};
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_call_{};
};

// One line of a progress bar: "label  45% |#####     | 450/1000 [00:12<00:14, 36.5/s]".
// total 0 renders the count and rate without a bar.
std::string format_progress_line(std::uint64_t done, std::uint64_t total, std::string_view label,
                                 double elapsed_seconds, int width);

// "MM:SS" below an hour, "H:MM:SS" above; "--:--" for a negative or non-finite value.
std::string format_duration(double seconds);

// Draws a bar on a terminal stream, redrawn in place with '\r' at most every 100 ms. Disabled
// bars print nothing: the CLI disables it with -q or when stderr is not a terminal.
class TerminalBar {
 public:
  TerminalBar(std::FILE* out, bool enabled, int width = 100);
  ~TerminalBar();
  TerminalBar(const TerminalBar&) = delete;
  TerminalBar& operator=(const TerminalBar&) = delete;

  bool update(std::uint64_t done, std::uint64_t total, std::string_view label);
  // Ends the current line (if a bar was drawn) so that later output starts on a fresh line.
  void finish();
  ProgressFn callback();

  // True when the stream is a terminal (isatty).
  static bool is_terminal(std::FILE* stream);

 private:
  std::FILE* out_;
  bool enabled_;
  int width_;
  bool drawn_ = false;
  std::string label_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  std::mutex mutex_;
};

}  // namespace sbench
