// The pickle reader against pickles written by Python's pickle module at test time (protocols
// 0-2), a hand-assembled Python 2 pickle, and pickles that must be refused without running anything.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "sbench/core/error.hpp"
#include "sbench/core/pickle.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

class Pickles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::run_python("pickle_fixtures.py", {dir_->path().string()});
  }
  static void TearDownTestSuite() { delete dir_; }
  static test::TempDir* dir_;
};
test::TempDir* Pickles::dir_ = nullptr;

TEST_F(Pickles, ArraysAndMasksAsPythonPickledThem) {
  const auto manifest = nlohmann::json::parse(test::read_file(dir_->path() / "manifest.json"));
  ASSERT_EQ(manifest.size(), 6u);
  for (const auto& [name, e] : manifest.items()) {
    SCOPED_TRACE(name);
    const MaskedArray a = read_pickled_array(dir_->path() / name);
    EXPECT_EQ(a.data.shape(), e["shape"].get<std::vector<std::int64_t>>());
    const auto values = a.data.to_vector<double>();
    const auto want = e["values"].get<std::vector<std::string>>();
    ASSERT_EQ(values.size(), want.size());
    for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i], std::strtod(want[i].c_str(), nullptr)) << i;
    if (e["mask"].is_null()) {
      EXPECT_TRUE(a.mask.empty());
    } else {
      EXPECT_EQ(a.mask, e["mask"].get<std::vector<std::uint8_t>>());
    }
  }
}

TEST_F(Pickles, RefusedWithoutRunningAnything) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"os_system.pkl", "refers to 'os.system'"},
      {"eval.pkl", "refers to 'builtins.eval'"},
      {"object.pkl", "object arrays"},
      {"truncated.pkl", "malformed pickle"},
      {"dict.pkl", "does not hold a numpy array"},
      {"proto4.pkl", "unsupported pickle opcode"},
  };
  for (const auto& [file, message] : cases) {
    SCOPED_TRACE(file);
    const auto path = dir_->path() / "bad" / file;
    try {
      read_pickled_array(path);
      ADD_FAILURE() << "no error";
    } catch (const FormatError& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(std::filesystem::exists("/tmp/sbench-pwned"));
}

}  // namespace
}  // namespace sbench
