// npy header and layout handling on hand-made byte images, where every byte is known.
#include <gtest/gtest.h>

#include <cstring>

#include "sbench/core/error.hpp"
#include "sbench/core/npy.hpp"

namespace sbench {
namespace {

// An npy 1.0 image with the given header dict and raw payload bytes.
std::vector<std::byte> image(const std::string& dict, const std::vector<std::uint8_t>& payload, int major = 1) {
  std::string header = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64) header.push_back(' ');
  header.push_back('\n');
  std::vector<std::byte> out;
  const char magic[] = "\x93NUMPY";
  for (int i = 0; i < 6; ++i) out.push_back(static_cast<std::byte>(magic[i]));
  out.push_back(std::byte{static_cast<std::uint8_t>(major)});
  out.push_back(std::byte{0});
  for (std::size_t k = 0; k < prefix - 8; ++k)
    out.push_back(std::byte{static_cast<std::uint8_t>((header.size() >> (8 * k)) & 0xFF)});
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  for (auto b : payload) out.push_back(std::byte{b});
  return out;
}

NpyArray parse(const std::vector<std::byte>& img) {
  return parse_npy(img.data(), img.size(), "test.npy");
}

TEST(NpyParse, BigEndianInt16IsSwapped) {
  const auto a =
      parse(image("{'descr': '>i2', 'fortran_order': False, 'shape': (3,), }", {0x01, 0x02, 0xFF, 0xFE, 0x00, 0x07}));
  EXPECT_EQ(a.descr(), "<i2");
  EXPECT_EQ(a.to_vector<int>(), (std::vector<int>{0x0102, -2, 7}));
}

TEST(NpyParse, FortranOrderIsTransposedToCOrder) {
  // Fortran order stores columns first: the 2x3 matrix [[0,1,2],[3,4,5]] is 0,3,1,4,2,5.
  const auto a = parse(image("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", {0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(a.to_vector<int>(), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  // 2x2x2: element (i,j,k) at Fortran offset i + 2j + 4k holds value 100i + 10j + k.
  std::vector<std::uint8_t> f(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k)
        f[static_cast<std::size_t>(i + 2 * j + 4 * k)] = static_cast<std::uint8_t>(100 * i + 10 * j + k);
  const auto b = parse(image("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2), }", f));
  EXPECT_EQ(b.to_vector<int>(), (std::vector<int>{0, 1, 10, 11, 100, 101, 110, 111}));
}

TEST(NpyParse, Python2LongSuffixAndKeyOrder) {
  const auto a = parse(image("{'shape': (2L, 1L), 'fortran_order': False, 'descr': '<u2'}", {1, 0, 2, 0}));
  EXPECT_EQ(a.shape(), (std::vector<std::int64_t>{2, 1}));
  EXPECT_EQ(a.to_vector<int>(), (std::vector<int>{1, 2}));
}

TEST(NpyParse, Version2Header) {
  const auto a = parse(image("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", {0, 0, 0xC0, 0x3F}, 2));
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1.5f}));
}

TEST(NpyParse, UnicodeIsUcs4) {
  // 'é' = U+00E9, stored little-endian in 4 bytes; the second element is empty (NUL-padded).
  const auto a = parse(image("{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }",
                             {0x61, 0, 0, 0, 0xE9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(a.strings(), (std::vector<std::string>{"a\xc3\xa9", ""}));
}

TEST(NpyParse, ErrorsNameTheContext) {
  auto message = [](const std::vector<std::byte>& img) {
    try {
      parse(img);
    } catch (const FormatError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(image("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", {0, 0}))
                .find("test.npy: truncated npy data"),
            std::string::npos);
  EXPECT_NE(message(image("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", {})).find("object arrays"),
            std::string::npos);
  EXPECT_NE(message(image("{'descr': '<f4', 'shape': (1,), }", {})).find("no 'fortran_order' entry"),
            std::string::npos);
  EXPECT_NE(
      message(image("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", {})).find("malformed npy header"),
      std::string::npos);
  EXPECT_NE(message(image("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", {}, 9)).find("version 9.0"),
            std::string::npos);
  // A shape whose byte count overflows must not allocate.
  EXPECT_NE(message(image("{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", {}))
                .find("too large"),
            std::string::npos);
}

TEST(NpyEncode, HeaderIsAlignedAndReadable) {
  const auto a = NpyArray::from<double>({2, 2}, std::vector<double>{1, 2, 3, 4});
  const auto bytes = encode_npy(a);
  const std::size_t header_len = static_cast<std::size_t>(bytes[8]) | (static_cast<std::size_t>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  EXPECT_EQ(bytes.size(), 10 + header_len + 32);
  const std::string header(reinterpret_cast<const char*>(bytes.data()) + 10, header_len);
  EXPECT_EQ(header.rfind("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 0), 0u) << header;
  EXPECT_EQ(header.back(), '\n');
  EXPECT_EQ(parse(bytes).to_vector<double>(), (std::vector<double>{1, 2, 3, 4}));
}

TEST(NpyArrayAccess, TypedViewChecksTheType) {
  auto a = NpyArray::from<float>({2}, std::vector<float>{1.f, 2.f});
  EXPECT_EQ(a.data<float>()[1], 2.f);
  EXPECT_TRUE(a.holds<float>());
  EXPECT_FALSE(a.holds<double>());
  EXPECT_THROW(a.data<double>(), FormatError);
  EXPECT_THROW(a.strings(), FormatError);
  EXPECT_THROW(NpyArray::from<int>({3}, std::vector<int>{1, 2}), Error);
}

}  // namespace
}  // namespace sbench
