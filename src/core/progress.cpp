#include "sbench/core/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace sbench {

ProgressFn no_progress() {
  return [](std::uint64_t, std::uint64_t, std::string_view) { return true; };
}

ProgressCounter::ProgressCounter(ProgressFn fn, std::uint64_t total, std::string label,
                                 std::chrono::milliseconds interval)
    : fn_(fn ? std::move(fn) : no_progress()), total_(total), label_(std::move(label)), interval_(interval) {}

void ProgressCounter::advance(std::uint64_t n) {
  const std::uint64_t now_done = done_.fetch_add(n) + n;
  if (cancelled_.load()) throw Cancelled();
  const auto now = std::chrono::steady_clock::now();
  const bool last = total_ != 0 && now_done >= total_;
  {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    // A busy lock means another thread is reporting right now; skipping keeps workers going,
    // except for the last unit, which must always be reported.
    if (!lock.owns_lock()) {
      if (!last) return;
      lock.lock();
    }
    const bool first = last_call_ == std::chrono::steady_clock::time_point{};
    if (!first && !last && now - last_call_ < interval_) return;
    last_call_ = now;
    if (!fn_(std::min(done_.load(), total_ ? total_ : done_.load()), total_, label_)) cancelled_ = true;
  }
  if (cancelled_.load()) throw Cancelled();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const auto total = static_cast<long long>(std::llround(seconds));
  const long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  if (h > 0) return fmt::format("{}:{:02}:{:02}", h, m, s);
  return fmt::format("{:02}:{:02}", m, s);
}

namespace {
std::string format_rate(double rate) {
  if (!std::isfinite(rate)) return "?";
  if (rate >= 100) return fmt::format("{:.0f}", rate);
  if (rate >= 10) return fmt::format("{:.1f}", rate);
  return fmt::format("{:.2f}", rate);
}
}  // namespace

std::string format_progress_line(std::uint64_t done, std::uint64_t total, std::string_view label,
                                 double elapsed_seconds, int width) {
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : NAN;
  if (total == 0) {
    return fmt::format("{} {} [{}, {}/s]", label, done, format_duration(elapsed_seconds), format_rate(rate));
  }
  const double fraction = std::clamp(static_cast<double>(done) / static_cast<double>(total), 0.0, 1.0);
  const double remaining = done >= total ? 0.0 : (rate > 0 ? static_cast<double>(total - done) / rate : NAN);
  const std::string counts = fmt::format("{}/{}", done, total);
  const std::string timing =
      fmt::format("[{}<{}, {}/s]", format_duration(elapsed_seconds), format_duration(remaining), format_rate(rate));
  const std::string head = fmt::format("{} {:3.0f}% ", label, std::floor(fraction * 100));
  const std::string tail = fmt::format(" {} {}", counts, timing);
  const int fixed = static_cast<int>(head.size() + tail.size()) + 2;
  const int bar_width = std::clamp(width - fixed, 10, 50);
  const int filled = static_cast<int>(std::floor(fraction * bar_width));
  return fmt::format("{}|{}{}|{}", head, std::string(static_cast<std::size_t>(filled), '#'),
                     std::string(static_cast<std::size_t>(bar_width - filled), ' '), tail);
}

TerminalBar::TerminalBar(std::FILE* out, bool enabled, int width)
    : out_(out), enabled_(enabled && out != nullptr), width_(width), start_(std::chrono::steady_clock::now()) {}

TerminalBar::~TerminalBar() {
  finish();
}

bool TerminalBar::is_terminal(std::FILE* stream) {
  return stream != nullptr && isatty(fileno(stream)) == 1;
}

bool TerminalBar::update(std::uint64_t done, std::uint64_t total, std::string_view label) {
  if (!enabled_) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (label != label_) {
    // A new stage: close the previous line and restart the clock for rate and ETA.
    if (drawn_) std::fputc('\n', out_);
    label_ = std::string(label);
    start_ = now;
    drawn_ = false;
  }
  const bool complete = total != 0 && done >= total;
  if (drawn_ && !complete && now - last_draw_ < std::chrono::milliseconds(100)) return true;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const std::string line = format_progress_line(done, total, label, elapsed, width_);
  std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  std::fflush(out_);
  drawn_ = true;
  return true;
}

void TerminalBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (enabled_ && drawn_) {
    std::fputc('\n', out_);
    std::fflush(out_);
  }
  drawn_ = false;
  label_.clear();
}

ProgressFn TerminalBar::callback() {
  return [this](std::uint64_t done, std::uint64_t total, std::string_view label) { return update(done, total, label); };
}

}  // namespace sbench
