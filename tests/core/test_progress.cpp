#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "sbench/core/progress.hpp"

namespace sbench {
namespace {

TEST(Progress, DurationText) {
  EXPECT_EQ(format_duration(0), "00:00");
  EXPECT_EQ(format_duration(61.4), "01:01");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "--:--");
  EXPECT_EQ(format_duration(NAN), "--:--");
}

TEST(Progress, LineShowsPercentCountsRateAndEta) {
  // 450 of 1000 in 12 s: 37.5/s, 550 left -> 14.67 s -> "00:15".
  const std::string line = format_progress_line(450, 1000, "import", 12.0, 100);
  EXPECT_EQ(line.rfind("import  45% |", 0), 0u) << line;
  EXPECT_NE(line.find("| 450/1000 [00:12<00:15, 37.5/s]"), std::string::npos) << line;
  const auto bar = line.substr(line.find('|') + 1, line.rfind('|') - line.find('|') - 1);
  const auto filled = static_cast<double>(std::count(bar.begin(), bar.end(), '#'));
  EXPECT_NEAR(filled / static_cast<double>(bar.size()), 0.45, 1.0 / static_cast<double>(bar.size()));
  EXPECT_EQ(format_progress_line(7, 0, "scan", 2.0, 100), "scan 7 [00:02, 3.50/s]");
  EXPECT_NE(format_progress_line(10, 10, "done", 4.0, 100).find("100% |"), std::string::npos);
}

std::string captured(const std::function<void(std::FILE*)>& body) {
  std::FILE* f = std::tmpfile();
  body(f);
  std::fflush(f);
  std::rewind(f);
  std::string out;
  for (int c; (c = std::fgetc(f)) != EOF;) out.push_back(static_cast<char>(c));
  std::fclose(f);
  return out;
}

TEST(Progress, DisabledBarPrintsNothing) {
  const auto out = captured([](std::FILE* f) {
    TerminalBar bar(f, false);
    bar.update(1, 2, "x");
    bar.update(2, 2, "x");
    bar.finish();
  });
  EXPECT_EQ(out, "");
}

TEST(Progress, BarIsOffWhenTheStreamIsNotATerminal) {
  std::FILE* f = std::tmpfile();
  EXPECT_FALSE(TerminalBar::is_terminal(f));
  std::fclose(f);
}

TEST(Progress, EnabledBarRedrawsInPlaceAndEndsTheLine) {
  const auto out = captured([](std::FILE* f) {
    TerminalBar bar(f, true);
    auto cb = bar.callback();
    EXPECT_TRUE(cb(0, 4, "tiles"));
    EXPECT_TRUE(cb(4, 4, "tiles"));  // completion is always drawn
  });
  EXPECT_EQ(out.front(), '\r');
  EXPECT_NE(out.find("tiles 100% |"), std::string::npos) << out;
  EXPECT_NE(out.find("4/4"), std::string::npos) << out;
  EXPECT_EQ(out.back(), '\n');
}

TEST(Progress, CounterReportsFirstAndLastAndStopsOnCancel) {
  std::vector<std::uint64_t> seen;
  ProgressCounter counter(
      [&](std::uint64_t done, std::uint64_t total, std::string_view label) {
        EXPECT_EQ(total, 1000u);
        EXPECT_EQ(label, "work");
        seen.push_back(done);
        return true;
      },
      1000, "work", std::chrono::hours(1));
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 250; ++i) counter.advance();
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(counter.done(), 1000u);
  ASSERT_GE(seen.size(), 2u);
  EXPECT_EQ(seen.back(), 1000u);

  int calls = 0;
  ProgressCounter cancelling([&](std::uint64_t, std::uint64_t, std::string_view) { return ++calls < 2; }, 10, "c",
                             std::chrono::milliseconds(0));
  cancelling.advance();
  EXPECT_THROW(cancelling.advance(), Cancelled);
  EXPECT_THROW(cancelling.advance(), Cancelled);
}

}  // namespace
}  // namespace sbench
