#include <gtest/gtest.h>

#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

TEST(AtomicFile, CommitRenamesThePartialFile) {
  test::TempDir dir;
  const auto path = dir / "metrics.json";
  {
    AtomicFile f(path);
    f.stream() << "{}";
    EXPECT_TRUE(std::filesystem::exists(dir / "metrics.json.partial"));
    EXPECT_FALSE(std::filesystem::exists(path));
    f.commit();
  }
  EXPECT_EQ(test::read_file(path), "{}");
  EXPECT_FALSE(std::filesystem::exists(dir / "metrics.json.partial"));
}

TEST(AtomicFile, AbandonedWriteKeepsThePreviousFileAndLeavesNoPartial) {
  test::TempDir dir;
  const auto path = dir / "out.csv";
  test::write_file(path, "old complete content");
  try {
    AtomicFile f(path);
    f.stream() << "half of the new";
    throw std::runtime_error("failure midway");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(test::read_file(path), "old complete content");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.csv.partial"));
}

TEST(AtomicFile, MissingFolderIsAnIoErrorNamingIt) {
  try {
    AtomicFile f("/nonexistent-folder/out.json");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-folder"), std::string::npos);
  }
}

}  // namespace
}  // namespace sbench
