// npy/npz against numpy itself: files written by np.save / np.savez / np.savez_compressed at
// test time are read by sbench and compared value by value with what numpy says they hold; files
// written by sbench are read back by numpy.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "sbench/core/error.hpp"
#include "sbench/core/npy.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

using nlohmann::json;

// Every element of an array as the text npy_fixtures.py writes: float.hex() for floats.
std::vector<std::string> text_values(const NpyArray& a) {
  std::vector<std::string> out;
  switch (a.kind()) {
    case NpyKind::floating:
      for (double v : a.to_vector<double>()) {
        // Python's float.hex(): "nan", "inf", "-inf", "0x0.0p+0", "-0x0.0p+0", "0x1.8000000000000p+0".
        if (std::isnan(v)) {
          out.push_back("nan");
        } else if (std::isinf(v)) {
          out.push_back(v > 0 ? "inf" : "-inf");
        } else {
          out.push_back("");  // compared numerically below
        }
      }
      break;
    case NpyKind::unicode: return a.strings();
    case NpyKind::unsigned_int:
      for (auto v : a.to_vector<std::uint64_t>()) out.push_back(std::to_string(v));
      break;
    default:
      for (auto v : a.to_vector<std::int64_t>()) out.push_back(std::to_string(v));
      break;
  }
  return out;
}

void expect_matches(const NpyArray& a, const json& exp, const std::string& where) {
  EXPECT_EQ(a.descr(), exp["descr"].get<std::string>()) << where;
  ASSERT_EQ(a.shape(), exp["shape"].get<std::vector<std::int64_t>>()) << where;
  const auto values = exp["values"].get<std::vector<std::string>>();
  ASSERT_EQ(a.size(), values.size()) << where;
  const auto got = text_values(a);
  if (a.kind() == NpyKind::floating) {
    const auto numbers = a.to_vector<double>();
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!got[i].empty()) {
        EXPECT_EQ(got[i], values[i]) << where << " element " << i;
        continue;
      }
      // strtod reads C99 hex floats exactly, so equality is exact, sign of zero included.
      const double expected = std::strtod(values[i].c_str(), nullptr);
      EXPECT_EQ(numbers[i], expected) << where << " element " << i << " expected " << values[i];
      EXPECT_EQ(std::signbit(numbers[i]), std::signbit(expected)) << where << " element " << i;
    }
  } else {
    EXPECT_EQ(got, values) << where;
  }
}

class NumpyFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::run_python("npy_fixtures.py", {dir_->path().string()});
    manifest_ = new json(json::parse(test::read_file(dir_->path() / "manifest.json")));
  }
  static void TearDownTestSuite() {
    delete manifest_;
    delete dir_;
  }
  static test::TempDir* dir_;
  static json* manifest_;
};
test::TempDir* NumpyFiles::dir_ = nullptr;
json* NumpyFiles::manifest_ = nullptr;

TEST_F(NumpyFiles, EveryNpyFileMatchesNumpy) {
  int files = 0;
  for (const auto& [name, members] : manifest_->items()) {
    if (name.size() < 4 || name.substr(name.size() - 4) != ".npy") continue;
    SCOPED_TRACE(name);
    expect_matches(read_npy(dir_->path() / name), members[""], name);
    ++files;
  }
  // 12 dtypes little-endian, 9 big-endian, 3 Fortran, scalar, empty, vector, v2, v3.
  EXPECT_EQ(files, 29);
}

TEST_F(NumpyFiles, SavezAndSavezCompressedMatchNumpy) {
  for (const char* name : {"plain.npz", "compressed.npz"}) {
    SCOPED_TRACE(name);
    NpzReader npz(dir_->path() / name);
    EXPECT_EQ(npz.keys(), (std::vector<std::string>{"x", "years", "labels", "mask", "big"}));
    for (const auto& [key, exp] : (*manifest_)[name].items()) {
      expect_matches(npz.read(key), exp, std::string(name) + ":" + key);
    }
    EXPECT_TRUE(npz.contains("x"));
    EXPECT_TRUE(npz.contains("x.npy"));
    EXPECT_FALSE(npz.contains("y"));
  }
}

TEST_F(NumpyFiles, Zip64ArchiveWithMoreThan65535Members) {
  NpzReader npz(dir_->path() / "zip64_many.npz");
  EXPECT_EQ(npz.keys().size(), 65600u);
  for (const char* key : {"a0", "a65599"}) expect_matches(npz.read(key), (*manifest_)["zip64_many.npz"][key], key);
}

TEST_F(NumpyFiles, ConversionsFollowNumpyAstype) {
  // The years of the crop-yield release are strings; labels convert between integer types.
  NpzReader npz(dir_->path() / "compressed.npz");
  EXPECT_EQ(npz.read("years").strings(), (std::vector<std::string>{"2009", "2010", "2016"}));
  EXPECT_EQ(npz.read("labels").to_vector<double>(), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(npz.read("mask").to_vector<int>(), (std::vector<int>{1, 0, 0, 1}));
  const auto big = npz.read("big");  // Fortran-order big-endian float64 3x4 = arange(12)
  const auto v = big.to_vector<float>();
  for (int i = 0; i < 12; ++i) EXPECT_EQ(v[static_cast<std::size_t>(i)], static_cast<float>(i));
}

// Each refused file gives an error naming the file (and member) and the reason.
struct BadCase {
  const char* file;
  const char* key;  // nullptr for .npy files
  const char* message;
};

TEST_F(NumpyFiles, BadFilesGiveClearErrors) {
  const std::vector<BadCase> cases = {
      {"object.npz", "x", "object arrays"},
      {"structured.npy", nullptr, "structured"},
      {"float16.npy", nullptr, "unsupported dtype '<f2'"},
      {"complex.npy", nullptr, "unsupported dtype '<c8'"},
      {"not_npy_member.npz", "x", "not an npy array"},
      {"truncated.npz", "x", "not a readable npz"},
      {"empty.npz", "x", "not a readable npz"},
      {"text.npz", "x", "not a readable npz"},
      {"truncated_data.npy", nullptr, "truncated npy data"},
      {"bad_magic.npy", nullptr, "not an npy array"},
      {"crc.npz", "x", "CRC"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const auto path = dir_->path() / "bad" / c.file;
    try {
      if (c.key) {
        NpzReader npz(path);
        npz.read(c.key);
      } else {
        read_npy(path);
      }
      ADD_FAILURE() << "no error for " << c.file;
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string()), std::string::npos) << what;
      EXPECT_NE(what.find(c.message), std::string::npos) << what;
      if (c.key && what.find("not a readable npz") == std::string::npos) {
        EXPECT_NE(what.find("member 'x.npy'"), std::string::npos) << what;
      }
    }
  }
}

TEST_F(NumpyFiles, MissingKeyListsTheKeysPresent) {
  NpzReader npz(dir_->path() / "plain.npz");
  try {
    npz.read("hists");
    FAIL() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no array 'hists' (arrays: x, years, labels, mask, big)"), std::string::npos)
        << e.what();
  }
}

TEST(NpyMissingFile, IsAnIoErrorNamingThePath) {
  EXPECT_THROW(read_npy("/nonexistent/a.npy"), IoError);
  EXPECT_THROW(NpzReader("/nonexistent/a.npz"), IoError);
}

// ---- our writer, read back by numpy ----

template <typename T>
json expect_entry(const NpyArray& a, const std::vector<T>& values, const char* descr) {
  json e;
  e["descr"] = descr;
  e["shape"] = a.shape();
  std::vector<std::string> text;
  for (const auto& v : values) {
    if constexpr (std::is_floating_point_v<T>) {
      // C99 hex float text ("0x1.8p+0", "nan", "inf"): npy_verify.py reads it with float.fromhex.
      char buf[64];
      std::snprintf(buf, sizeof buf, "%a", static_cast<double>(v));
      text.push_back(buf);
    } else if constexpr (std::is_same_v<T, bool>) {
      text.push_back(v ? "1" : "0");
    } else if constexpr (std::is_same_v<T, std::string>) {
      text.push_back(v);
    } else {
      text.push_back(std::to_string(v));
    }
  }
  e["values"] = text;
  return e;
}

TEST(NpyWriter, NumpyReadsBackEveryDtype) {
  test::TempDir dir;
  json expected;
  const std::vector<std::int64_t> shape = {2, 3};
  auto add = [&](const std::string& file, const NpyArray& a, json entry) {
    write_npy(dir / file, a);
    expected[file][""] = std::move(entry);
  };
#define SBENCH_CASE(T, DESCR, ...)                                      \
  {                                                                     \
    const std::vector<T> v = {__VA_ARGS__};                             \
    const auto a = NpyArray::from<T>(shape, v);                         \
    add(std::string("w_") + #T + ".npy", a, expect_entry(a, v, DESCR)); \
  }
  SBENCH_CASE(bool, "|b1", true, false, false, true, true, false)
  SBENCH_CASE(std::int8_t, "|i1", -128, 127, 0, -1, 1, 5)
  SBENCH_CASE(std::int16_t, "<i2", -32768, 32767, 0, -1, 1, 300)
  SBENCH_CASE(std::int32_t, "<i4", INT32_MIN, INT32_MAX, 0, -1, 1, 70000)
  SBENCH_CASE(std::int64_t, "<i8", INT64_MIN, INT64_MAX, 0, -1, 1, 5000000000LL)
  SBENCH_CASE(std::uint8_t, "|u1", 0, 255, 1, 2, 3, 128)
  SBENCH_CASE(std::uint16_t, "<u2", 0, 65535, 1, 2, 3, 40000)
  SBENCH_CASE(std::uint32_t, "<u4", 0, UINT32_MAX, 1, 2, 3, 3000000000U)
  SBENCH_CASE(std::uint64_t, "<u8", 0, UINT64_MAX, 1, 2, 3, 10000000000000000000ULL)
  SBENCH_CASE(float, "<f4", 0.0f, -0.0f, 1.5f, -2.25f, 3.4e38f, 1e-3f)
  SBENCH_CASE(double, "<f8", 0.0, -0.0, 1.0 / 3.0, -2.25, 1e308, 5e-324)
#undef SBENCH_CASE
  {
    const std::vector<std::string> words = {
        "", "a", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac", "kenya_2017", "\xf0\x9f\x98\x80"};
    const auto a = NpyArray::from_strings(shape, words);
    add("w_unicode.npy", a, expect_entry(a, words, "<U10"));
  }
  {
    const std::vector<double> v = {NAN, INFINITY, -INFINITY};
    const auto a = NpyArray::from<double>({3}, v);
    add("w_nonfinite.npy", a, expect_entry(a, v, "<f8"));
  }
  {
    const auto a = NpyArray::from<std::int32_t>({}, std::vector<std::int32_t>{42});
    add("w_scalar.npy", a, expect_entry(a, std::vector<std::int32_t>{42}, "<i4"));
    const auto e = NpyArray::from<float>({0, 4}, std::vector<float>{});
    add("w_empty.npy", e, expect_entry(e, std::vector<float>{}, "<f4"));
  }
  for (bool compress : {false, true}) {
    const std::string file = compress ? "w_compressed.npz" : "w_plain.npz";
    NpzWriter npz(dir / file, compress);
    std::vector<float> x(8 * 17 * 17);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.25f;
    const auto xa = NpyArray::from<float>({8, 17, 17}, x);
    npz.add("x", xa);
    const std::vector<std::string> years = {"2009", "2016"};
    const auto ya = NpyArray::from_strings({2}, years);
    npz.add("years", ya);
    EXPECT_FALSE(std::filesystem::exists(dir / file)) << "npz visible before close()";
    npz.close();
    expected[file]["x"] = expect_entry(xa, x, "<f4");
    expected[file]["years"] = expect_entry(ya, years, "<U4");
    // Our reader agrees with what we wrote.
    NpzReader back(dir / file);
    EXPECT_EQ(back.read("x").to_vector<float>(), x);
    EXPECT_EQ(back.read("years").strings(), years);
  }
  test::write_file(dir / "expected.json", expected.dump(1));
  const auto r = test::run_python("npy_verify.py", {dir.path().string()});
  EXPECT_NE(r.out.find("0 problems"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sbench
