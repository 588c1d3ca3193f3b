#include "sbench/core/npy.hpp"

#include <fmt/format.h>
#include <sys/mman.h>
#include <zip.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <optional>

#include "sbench/core/atomic_file.hpp"
#include "sbench/core/error.hpp"

namespace sbench {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicSize = 6;
// numpy pads the header so that the data starts on a 64-byte boundary.
constexpr std::size_t kAlign = 64;

bool host_is_little_endian() {
  const std::uint16_t probe = 1;
  std::uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

std::string kind_name(NpyKind kind, std::size_t itemsize) {
  if (kind == NpyKind::unicode) return fmt::format("<U{}", itemsize / 4);
  return fmt::format("{}{}{}", itemsize == 1 ? '|' : '<', static_cast<char>(kind), itemsize);
}

// ---- header: a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (8, 255, 255), }

struct PyValue {
  enum class Type { string, boolean, tuple, other } type = Type::other;
  std::string text;
  bool flag = false;
  std::vector<std::int64_t> items;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& context) : s_(text), context_(context) {}

  std::map<std::string, PyValue> parse_dict() {
    std::map<std::string, PyValue> out;
    expect('{');
    for (;;) {
      skip_space();
      if (peek() == '}') {
        ++pos_;
        break;
      }
      PyValue key = parse_value();
      if (key.type != PyValue::Type::string) error("dictionary key is not a string");
      expect(':');
      PyValue value = parse_value();
      out[key.text] = std::move(value);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      break;
    }
    return out;
  }

 private:
  [[noreturn]] void error(std::string_view what) const {
    fail<FormatError>("{}: malformed npy header ({} at offset {}): {}", context_, what, pos_, s_);
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) error(fmt::format("expected '{}'", c));
    ++pos_;
  }

  PyValue parse_value() {
    skip_space();
    PyValue v;
    const char c = peek();
    if (c == '\'' || c == '"') {
      ++pos_;
      const std::size_t end = s_.find(c, pos_);
      if (end == std::string_view::npos) error("unterminated string");
      v.type = PyValue::Type::string;
      v.text = std::string(s_.substr(pos_, end - pos_));
      pos_ = end + 1;
    } else if (s_.substr(pos_, 4) == "True") {
      v.type = PyValue::Type::boolean;
      v.flag = true;
      pos_ += 4;
    } else if (s_.substr(pos_, 5) == "False") {
      v.type = PyValue::Type::boolean;
      pos_ += 5;
    } else if (c == '(') {
      ++pos_;
      v.type = PyValue::Type::tuple;
      for (;;) {
        skip_space();
        if (peek() == ')') {
          ++pos_;
          break;
        }
        v.items.push_back(parse_int());
        skip_space();
        if (peek() == ',') {
          ++pos_;
        } else if (peek() != ')') {
          error("expected ',' or ')' in shape");
        }
      }
    } else if (c == '[') {
      // A list descr is a structured dtype; skip it so the caller can say so.
      int depth = 0;
      do {
        if (peek() == '[') ++depth;
        if (peek() == ']') --depth;
        if (pos_ >= s_.size()) error("unterminated list");
        ++pos_;
      } while (depth > 0);
      v.type = PyValue::Type::other;
      v.text = "list";
    } else {
      error("unexpected value");
    }
    return v;
  }

  std::int64_t parse_int() {
    skip_space();
    const std::size_t start = pos_;
    std::int64_t value = 0;
    while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      const int digit = s_[pos_] - '0';
      if (value > (std::numeric_limits<std::int64_t>::max() - digit) / 10) error("dimension too large");
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) error("expected a non-negative integer dimension");
    if (peek() == 'L') ++pos_;  // Python 2 long suffix, written by old numpy versions.
    return value;
  }

  std::string_view s_;
  const std::string& context_;
  std::size_t pos_ = 0;
};

struct DType {
  NpyKind kind;
  std::size_t itemsize;
  bool big_endian;
};

DType parse_descr(const std::string& descr, const std::string& context) {
  const std::string supported = "b1, i1, i2, i4, i8, u1, u2, u4, u8, f4, f8, U<n>";
  std::string_view d = descr;
  char order = '=';
  if (!d.empty() && (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=')) {
    order = d[0];
    d.remove_prefix(1);
  }
  if (d.empty()) fail<FormatError>("{}: empty dtype in npy header", context);
  const char kind = d[0];
  const std::string_view digits = d.substr(1);
  std::size_t n = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || n > 1'000'000) {
      fail<FormatError>("{}: unsupported dtype '{}' (supported: {})", context, descr, supported);
    }
    n = n * 10 + static_cast<std::size_t>(c - '0');
  }
  if (kind == 'O') {
    fail<FormatError>(
        "{}: unsupported dtype '{}': object arrays are Python pickles, which sbench never loads (supported: {})",
        context, descr, supported);
  }
  const bool big = order == '>' || (order == '=' && !host_is_little_endian());
  DType out{NpyKind::floating, 0, big};
  switch (kind) {
    case 'b':
      if (n == 1) out = {NpyKind::boolean, 1, false};
      break;
    case 'i':
    case 'u':
      if (n == 1 || n == 2 || n == 4 || n == 8)
        out = {kind == 'i' ? NpyKind::signed_int : NpyKind::unsigned_int, n, big};
      break;
    case 'f':
      if (n == 4 || n == 8) out = {NpyKind::floating, n, big};
      break;
    case 'U':
      if (n >= 1) out = {NpyKind::unicode, 4 * n, big};
      break;
    default: break;
  }
  if (out.itemsize == 0) fail<FormatError>("{}: unsupported dtype '{}' (supported: {})", context, descr, supported);
  return out;
}

void byteswap(std::byte* data, std::size_t count, std::size_t width) {
  for (std::size_t i = 0; i < count; ++i) std::reverse(data + i * width, data + (i + 1) * width);
}

// Fortran order to C order: out[c_index] = in[f_index] for every multi-index.
std::vector<std::byte> fortran_to_c(const std::byte* in, const std::vector<std::int64_t>& shape, std::size_t count,
                                    std::size_t itemsize) {
  std::vector<std::byte> out(count * itemsize);
  const std::size_t nd = shape.size();
  if (count == 0) return out;
  std::vector<std::size_t> f_stride(nd);
  std::size_t s = 1;
  for (std::size_t d = 0; d < nd; ++d) {
    f_stride[d] = s;
    s *= static_cast<std::size_t>(shape[d]);
  }
  std::vector<std::int64_t> index(nd, 0);
  std::size_t f_offset = 0;
  for (std::size_t c = 0; c < count; ++c) {
    std::memcpy(out.data() + c * itemsize, in + f_offset * itemsize, itemsize);
    // Advance the C-order multi-index (last axis fastest) and keep the F offset in step.
    for (std::size_t d = nd; d-- > 0;) {
      if (++index[d] < shape[d]) {
        f_offset += f_stride[d];
        break;
      }
      f_offset -= static_cast<std::size_t>(index[d] - 1) * f_stride[d];
      index[d] = 0;
    }
  }
  return out;
}

// UCS-4 code point to UTF-8.
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::vector<std::uint32_t> utf8_to_ucs4(std::string_view s) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) fail<InputError>("string is not valid UTF-8: '{}'", s);
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) fail<InputError>("string is not valid UTF-8: '{}'", s);
      cp = (cp << 6) | (cc & 0x3F);
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

}  // namespace

namespace detail {
std::size_t element_count(const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) fail<FormatError>("negative dimension {} in shape {}", d, shape_text(shape));
    const auto ud = static_cast<std::size_t>(d);
    if (ud != 0 && n > std::numeric_limits<std::size_t>::max() / ud) {
      fail<FormatError>("shape {} is too large", shape_text(shape));
    }
    n *= ud;
  }
  return n;
}
}  // namespace detail

// ---- NpyArray ----

namespace detail {
ByteBuffer& ByteBuffer::operator=(const ByteBuffer& other) {
  if (this == &other) return *this;
  resize(other.size_);
  if (size_) std::memcpy(data_.get(), other.data_.get(), size_);
  return *this;
}

void ByteBuffer::resize(std::size_t n) {
  if (n > capacity_) {
    constexpr std::size_t kHuge = std::size_t{2} << 20;
    if (n >= 4 * kHuge) {
      // Large arrays in transparent huge pages, as numpy does: first touch then faults once per
      // 2 MB instead of once per 4 KB (4x faster to fill on this kind of machine).
      const std::size_t bytes = (n + kHuge - 1) / kHuge * kHuge;
      void* p = std::aligned_alloc(kHuge, bytes);
      if (!p) throw std::bad_alloc();
      madvise(p, bytes, MADV_HUGEPAGE);
      data_ = Storage(static_cast<std::byte*>(p), &std::free);
    } else {
      data_ = Storage(static_cast<std::byte*>(std::malloc(std::max<std::size_t>(n, 1))), &std::free);
      if (!data_) throw std::bad_alloc();
    }
    capacity_ = n;
  }
  size_ = n;
}
}  // namespace detail

NpyArray::NpyArray(NpyKind kind, std::size_t itemsize, std::vector<std::int64_t> shape) {
  prepare(kind, itemsize, std::move(shape));
  if (data_.size()) std::memset(data_.data(), 0, data_.size());
}

void NpyArray::prepare(NpyKind kind, std::size_t itemsize, std::vector<std::int64_t> shape) {
  if (itemsize == 0) fail<Error>("npy array with element size 0");
  const std::size_t count = detail::element_count(shape);
  if (count > std::numeric_limits<std::size_t>::max() / itemsize)
    fail<FormatError>("array of {} elements is too large", count);
  kind_ = kind;
  itemsize_ = itemsize;
  shape_ = std::move(shape);
  size_ = count;
  data_.resize(size_ * itemsize_);
}

NpyArray NpyArray::from_strings(std::vector<std::int64_t> shape, const std::vector<std::string>& values) {
  std::vector<std::vector<std::uint32_t>> wide;
  wide.reserve(values.size());
  std::size_t width = 1;
  for (const auto& v : values) {
    wide.push_back(utf8_to_ucs4(v));
    width = std::max(width, wide.back().size());
  }
  NpyArray array(NpyKind::unicode, 4 * width, std::move(shape));
  if (values.size() != array.size()) throw_size_mismatch(array.size(), values.size());
  for (std::size_t i = 0; i < wide.size(); ++i) {
    if (!wide[i].empty()) std::memcpy(array.data_.data() + i * array.itemsize_, wide[i].data(), wide[i].size() * 4);
  }
  return array;
}

void NpyArray::throw_size_mismatch(std::size_t expected, std::size_t given) {
  fail<Error>("npy array: shape holds {} elements but {} values were given", expected, given);
}

std::string NpyArray::descr() const {
  return kind_name(kind_, itemsize_);
}

void NpyArray::check_holds(NpyKind kind, std::size_t itemsize) const {
  if (kind_ != kind || itemsize_ != itemsize) {
    fail<FormatError>("array holds {}, not {}", descr(), kind_name(kind, itemsize));
  }
}

double NpyArray::element_as_double(std::size_t i) const {
  const std::byte* p = data_.data() + i * itemsize_;
  auto load = [p](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (kind_) {
    case NpyKind::boolean: return load(std::uint8_t{}) != 0 ? 1.0 : 0.0;
    case NpyKind::floating: return itemsize_ == 4 ? static_cast<double>(load(float{})) : load(double{});
    case NpyKind::signed_int:
    case NpyKind::unsigned_int:
      return kind_ == NpyKind::unsigned_int && itemsize_ == 8 ? static_cast<double>(load(std::uint64_t{}))
                                                              : static_cast<double>(element_as_int(i));
    case NpyKind::unicode: break;
  }
  fail<FormatError>("cannot convert a unicode array ({}) to numbers", descr());
}

std::int64_t NpyArray::element_as_int(std::size_t i) const {
  const std::byte* p = data_.data() + i * itemsize_;
  auto load = [p](auto zero) {
    decltype(zero) v;
    std::memcpy(&v, p, sizeof v);
    return static_cast<std::int64_t>(v);
  };
  if (kind_ == NpyKind::signed_int) {
    switch (itemsize_) {
      case 1: return load(std::int8_t{});
      case 2: return load(std::int16_t{});
      case 4: return load(std::int32_t{});
      default: return load(std::int64_t{});
    }
  }
  if (kind_ == NpyKind::unsigned_int || kind_ == NpyKind::boolean) {
    switch (itemsize_) {
      case 1: return load(std::uint8_t{});
      case 2: return load(std::uint16_t{});
      case 4: return load(std::uint32_t{});
      default: return load(std::uint64_t{});
    }
  }
  if (kind_ == NpyKind::floating) return static_cast<std::int64_t>(element_as_double(i));
  fail<FormatError>("cannot convert a unicode array ({}) to numbers", descr());
}

std::vector<std::string> NpyArray::strings() const {
  if (kind_ != NpyKind::unicode) fail<FormatError>("array holds {}, not unicode strings", descr());
  const std::size_t width = itemsize_ / 4;
  std::vector<std::string> out(size_);
  for (std::size_t i = 0; i < size_; ++i) {
    std::string& s = out[i];
    for (std::size_t k = 0; k < width; ++k) {
      std::uint32_t cp = 0;
      std::memcpy(&cp, data_.data() + i * itemsize_ + k * 4, 4);
      if (cp == 0) break;
      if (cp > 0x10FFFF) fail<FormatError>("unicode array element {} holds invalid code point {:#x}", i, cp);
      append_utf8(s, cp);
    }
  }
  return out;
}

// ---- npy encoding ----

namespace {

// What an npy header says. The header occupies the first header_bytes bytes of the image.
struct NpyHeader {
  DType dtype;
  std::string descr;
  bool fortran = false;
  std::vector<std::int64_t> shape;
  std::size_t header_bytes = 0;
};

// Size of the fixed prefix (magic, version, length) and of the whole header, from the first 12
// bytes (fewer when the image is shorter).
std::pair<std::size_t, std::size_t> npy_header_extent(const std::byte* data, std::size_t size,
                                                      const std::string& context) {
  if (size < kMagicSize + 4 || std::memcmp(data, kMagic, kMagicSize) != 0) {
    fail<FormatError>("{}: not an npy array (no \\x93NUMPY magic at the start)", context);
  }
  const auto major = static_cast<unsigned>(data[6]);
  const auto minor = static_cast<unsigned>(data[7]);
  if (major == 1) {
    const std::size_t len = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8);
    return {10, 10 + len};
  }
  if (major == 2 || major == 3) {
    if (size < 12) fail<FormatError>("{}: truncated npy header", context);
    std::size_t len = 0;
    for (int k = 3; k >= 0; --k) len = (len << 8) | static_cast<std::size_t>(data[8 + k]);
    return {12, 12 + len};
  }
  fail<FormatError>("{}: unsupported npy format version {}.{} (supported: 1.0, 2.0, 3.0)", context, major, minor);
}

NpyHeader parse_npy_header(const std::byte* data, std::size_t size, const std::string& context) {
  const auto [prefix, total] = npy_header_extent(data, size, context);
  if (total > size) {
    fail<FormatError>("{}: truncated npy header ({} bytes announced, {} present)", context, total - prefix,
                      size - prefix);
  }
  const std::string_view header(reinterpret_cast<const char*>(data + prefix), total - prefix);
  HeaderParser parser(header, context);
  const auto dict = parser.parse_dict();
  auto get = [&](const char* key) -> const PyValue& {
    auto it = dict.find(key);
    if (it == dict.end()) fail<FormatError>("{}: npy header has no '{}' entry: {}", context, key, header);
    return it->second;
  };
  const PyValue& descr = get("descr");
  const PyValue& fortran = get("fortran_order");
  const PyValue& shape = get("shape");
  if (descr.type != PyValue::Type::string) {
    fail<FormatError>(
        "{}: unsupported dtype: structured (record) arrays are not supported (supported: b1, i1-i8, u1-u8, f4, f8, "
        "U<n>)",
        context);
  }
  if (fortran.type != PyValue::Type::boolean)
    fail<FormatError>("{}: npy header 'fortran_order' is not True/False", context);
  if (shape.type != PyValue::Type::tuple) fail<FormatError>("{}: npy header 'shape' is not a tuple", context);
  return {parse_descr(descr.text, context), descr.text, fortran.flag, shape.items, total};
}

// Fills out from the payload that follows the header: fill(dst, n) copies up to n bytes and
// returns how many it copied. Converts to C order and native byte order.
template <typename Fill>
void load_npy_payload(const NpyHeader& h, NpyArray& out, Fill&& fill, const std::string& context) {
  try {
    out.prepare(h.dtype.kind, h.dtype.itemsize, h.shape);
  } catch (const FormatError& e) {
    fail<FormatError>("{}: {}", context, e.what());
  }
  const std::size_t need = out.nbytes();
  auto fill_exact = [&](std::byte* dst) {
    const std::size_t got = fill(dst, need);
    if (got < need) {
      fail<FormatError>("{}: truncated npy data: shape {} of {} needs {} bytes, found {}", context, shape_text(h.shape),
                        h.descr, need, got);
    }
  };
  if (h.fortran && out.ndim() > 1) {
    std::vector<std::byte> fortran(need);
    fill_exact(fortran.data());
    const auto c_order = fortran_to_c(fortran.data(), out.shape(), out.size(), out.itemsize());
    std::memcpy(out.bytes(), c_order.data(), need);
  } else {
    fill_exact(out.bytes());
  }
  const bool swap = h.dtype.big_endian == host_is_little_endian();
  if (swap && h.dtype.kind != NpyKind::boolean) {
    const std::size_t width = h.dtype.kind == NpyKind::unicode ? 4 : h.dtype.itemsize;
    if (width > 1) byteswap(out.bytes(), need / width, width);
  }
}

// An array from a payload held in memory.
NpyArray load_from_memory(const NpyHeader& h, const std::byte* payload, std::size_t size, const std::string& context) {
  NpyArray array;
  std::size_t offset = 0;
  load_npy_payload(
      h, array,
      [&](std::byte* dst, std::size_t n) {
        const std::size_t got = std::min(n, size - offset);
        if (got) std::memcpy(dst, payload + offset, got);
        offset += got;
        return got;
      },
      context);
  return array;
}

}  // namespace

NpyArray parse_npy(const std::byte* data, std::size_t size, const std::string& context) {
  const NpyHeader h = parse_npy_header(data, size, context);
  return load_from_memory(h, data + h.header_bytes, size - h.header_bytes, context);
}

NpyArray npy_from_raw(const std::string& descr, std::vector<std::int64_t> shape, bool fortran_order,
                      const std::byte* data, std::size_t size, const std::string& context) {
  const NpyHeader h{parse_descr(descr, context), descr, fortran_order, std::move(shape), 0};
  return load_from_memory(h, data, size, context);
}

std::vector<std::byte> encode_npy(const NpyArray& array) {
  if (!host_is_little_endian()) fail<Error>("writing npy on a big-endian host is not supported");
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", array.descr(), shape_text(array.shape()));
  // Version 1.0 has a 2-byte header length; larger headers need 2.0 (4 bytes).
  std::size_t prefix = 10;
  unsigned major = 1;
  auto padded_len = [&](std::size_t pre) {
    const std::size_t total = pre + dict.size() + 1;
    return dict.size() + 1 + (kAlign - total % kAlign) % kAlign;
  };
  std::size_t header_len = padded_len(prefix);
  if (header_len > 65535) {
    prefix = 12;
    major = 2;
    header_len = padded_len(prefix);
  }
  std::vector<std::byte> out(prefix + header_len + array.nbytes());
  std::memcpy(out.data(), kMagic, kMagicSize);
  out[6] = std::byte{static_cast<std::uint8_t>(major)};
  out[7] = std::byte{0};
  for (std::size_t k = 0; k < prefix - 8; ++k)
    out[8 + k] = std::byte{static_cast<std::uint8_t>((header_len >> (8 * k)) & 0xFF)};
  std::string header = dict;
  header.resize(header_len - 1, ' ');
  header.push_back('\n');
  std::memcpy(out.data() + prefix, header.data(), header.size());
  if (array.nbytes()) std::memcpy(out.data() + prefix + header_len, array.bytes(), array.nbytes());
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail<IoError>("{}: cannot open npy file", path.string());
  struct Closer {
    std::FILE* f;
    ~Closer() { std::fclose(f); }
  } closer{f};
  const std::string context = path.string();
  // Header first, then the payload straight into the array's storage (one read, no copy).
  std::vector<std::byte> header(12);
  header.resize(std::fread(header.data(), 1, header.size(), f));
  const std::size_t header_bytes = npy_header_extent(header.data(), header.size(), context).second;
  if (header_bytes > header.size()) {
    const std::size_t have = header.size();
    header.resize(header_bytes);
    header.resize(have + std::fread(header.data() + have, 1, header_bytes - have, f));
  }
  const NpyHeader h = parse_npy_header(header.data(), header.size(), context);
  std::size_t carried = header.size() - h.header_bytes;
  NpyArray array;
  load_npy_payload(
      h, array,
      [&](std::byte* dst, std::size_t n) {
        const std::size_t first = std::min(n, carried);
        if (first) std::memcpy(dst, header.data() + h.header_bytes, first);
        carried -= first;
        return first + std::fread(dst + first, 1, n - first, f);
      },
      context);
  if (std::ferror(f)) fail<IoError>("{}: read error", path.string());
  return array;
}

void write_npy(const std::filesystem::path& path, const NpyArray& array) {
  const auto bytes = encode_npy(array);
  AtomicFile file(path);
  file.stream().write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  file.commit();
}

// ---- npz ----

struct NpzReader::Zip {
  zip_t* archive = nullptr;
  ~Zip() {
    if (archive) zip_discard(archive);
  }
};

namespace {
std::string zip_error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

std::string member_name(std::string_view key) {
  if (key.size() >= 4 && key.substr(key.size() - 4) == ".npy") return std::string(key);
  return std::string(key) + ".npy";
}
}  // namespace

NpzReader::NpzReader(const std::filesystem::path& path) : path_(path), zip_(std::make_unique<Zip>()) {
  if (!std::filesystem::exists(path)) fail<IoError>("{}: no such file", path.string());
  int code = 0;
  zip_->archive = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!zip_->archive) {
    fail<FormatError>("{}: not a readable npz (zip) archive: {}", path.string(), zip_error_text(code));
  }
  const zip_int64_t n = zip_get_num_entries(zip_->archive, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(zip_->archive, static_cast<zip_uint64_t>(i), ZIP_FL_ENC_GUESS);
    if (!name) continue;
    std::string key = name;
    if (key.size() >= 4 && key.substr(key.size() - 4) == ".npy") key.resize(key.size() - 4);
    keys_.push_back(std::move(key));
  }
}

NpzReader::~NpzReader() = default;

bool NpzReader::contains(std::string_view key) const {
  return zip_name_locate(zip_->archive, member_name(key).c_str(), 0) >= 0;
}

NpyArray NpzReader::read(std::string_view key) const {
  NpyArray out;
  read(key, out);
  return out;
}

// Streams the member: the header first, then the payload straight into out's storage, so a
// 2 MB example is inflated once into memory that a loop reuses.
void NpzReader::read(std::string_view key, NpyArray& out) const {
  const std::string member = member_name(key);
  const std::string context = fmt::format("{}: member '{}'", path_.string(), member);
  const zip_int64_t index = zip_name_locate(zip_->archive, member.c_str(), 0);
  if (index < 0) {
    fail<InputError>("{}: no array '{}' (arrays: {})", path_.string(), std::string(key), fmt::join(keys_, ", "));
  }
  zip_file_t* file = zip_fopen_index(zip_->archive, static_cast<zip_uint64_t>(index), 0);
  if (!file) fail<FormatError>("{}: cannot open the zip entry: {}", context, zip_strerror(zip_->archive));
  struct Closer {
    zip_file_t* f;
    ~Closer() { zip_fclose(f); }
  } closer{file};
  auto read_up_to = [&](std::byte* dst, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
      const zip_int64_t r = zip_fread(file, dst + got, n - got);
      if (r < 0) fail<FormatError>("{}: corrupt entry: {}", context, zip_file_strerror(file));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  };
  // Magic, version and header length; then the rest of the header.
  std::vector<std::byte> header(12);
  header.resize(read_up_to(header.data(), header.size()));
  const std::size_t header_bytes = npy_header_extent(header.data(), header.size(), context).second;
  if (header_bytes > (1u << 26)) fail<FormatError>("{}: npy header of {} bytes is implausible", context, header_bytes);
  if (header_bytes > header.size()) {
    const std::size_t have = header.size();
    header.resize(header_bytes);
    header.resize(have + read_up_to(header.data() + have, header_bytes - have));
  }
  const NpyHeader h = parse_npy_header(header.data(), header.size(), context);
  // Bytes already read past the header belong to the payload.
  std::size_t carried = header.size() - h.header_bytes;
  load_npy_payload(
      h, out,
      [&](std::byte* dst, std::size_t n) {
        const std::size_t first = std::min(n, carried);
        if (first) std::memcpy(dst, header.data() + h.header_bytes, first);
        carried -= first;
        return first + read_up_to(dst + first, n - first);
      },
      context);
  // Reading past the end makes libzip check the CRC of everything it inflated.
  std::byte extra;
  if (zip_fread(file, &extra, 1) < 0) fail<FormatError>("{}: corrupt entry: {}", context, zip_file_strerror(file));
}

NpzWriter::NpzWriter(const std::filesystem::path& path, bool compress) : path_(path), compress_(compress) {}

NpzWriter::~NpzWriter() = default;

void NpzWriter::add(std::string_view key, const NpyArray& array) {
  if (closed_) fail<Error>("{}: npz already closed", path_.string());
  const std::string member = member_name(key);
  for (const auto& m : members_) {
    if (m.first == member) fail<Error>("{}: array '{}' added twice", path_.string(), std::string(key));
  }
  members_.emplace_back(member, encode_npy(array));
}

void NpzWriter::close() {
  if (closed_) return;
  AtomicFile out(path_);
  int code = 0;
  zip_t* archive = zip_open(out.partial_path().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!archive) fail<IoError>("{}: cannot create zip archive: {}", out.partial_path().string(), zip_error_text(code));
  for (const auto& [name, bytes] : members_) {
    zip_source_t* source = zip_source_buffer(archive, bytes.data(), bytes.size(), 0);
    if (!source) {
      std::string e = zip_strerror(archive);
      zip_discard(archive);
      fail<IoError>("{}: {}", path_.string(), e);
    }
    const zip_int64_t index = zip_file_add(archive, name.c_str(), source, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (index < 0) {
      zip_source_free(source);
      std::string e = zip_strerror(archive);
      zip_discard(archive);
      fail<IoError>("{}: cannot add '{}': {}", path_.string(), name, e);
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), compress_ ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  if (zip_close(archive) != 0) {
    std::string e = zip_strerror(archive);
    zip_discard(archive);
    fail<IoError>("{}: cannot write zip archive: {}", path_.string(), e);
  }
  out.commit();
  members_.clear();
  closed_ = true;
}

}  // namespace sbench
