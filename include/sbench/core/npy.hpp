// NumPy's .npy and .npz formats (format versions 1.0, 2.0 and 3.0), without Python.
//
// Supported element types: bool (b1), signed and unsigned integers of 1, 2, 4 and 8 bytes,
// float32 and float64, and fixed-width unicode strings (<U n>). Arrays are returned in native
// byte order and C (row-major) order whatever the file used: big-endian data is swapped and
// Fortran-order data is transposed on reading. Object arrays and structured dtypes are refused,
// never unpickled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sbench {

// The element types of NpyArray. kind is numpy's kind character.
enum class NpyKind : char { boolean = 'b', signed_int = 'i', unsigned_int = 'u', floating = 'f', unicode = 'U' };

namespace detail {
// Bytes without zero-filling, reused when they suffice: readers overwrite every byte, and on this
// kind of machine first touch of fresh memory costs about 2 s/GiB.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer& other) { *this = other; }
  ByteBuffer& operator=(const ByteBuffer& other);
  ByteBuffer(ByteBuffer&&) noexcept = default;
  ByteBuffer& operator=(ByteBuffer&&) noexcept = default;
  ~ByteBuffer() = default;

  // Contents are unspecified after a resize that grows the capacity.
  void resize(std::size_t n);
  std::byte* data() { return data_.get(); }
  const std::byte* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  using Storage = std::unique_ptr<std::byte, void (*)(void*)>;
  Storage data_{nullptr, &std::free};
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};
}  // namespace detail

class NpyArray {
 public:
  NpyArray() = default;
  // A zero-filled array; itemsize is bytes per element (4 x characters for unicode).
  NpyArray(NpyKind kind, std::size_t itemsize, std::vector<std::int64_t> shape);

  template <typename T>
  static NpyArray from(std::vector<std::int64_t> shape, const std::vector<T>& values);
  // Sets type and shape, reusing the storage when it is large enough. The contents are then
  // unspecified: for readers that overwrite every byte (NpzReader::read into an array).
  void prepare(NpyKind kind, std::size_t itemsize, std::vector<std::int64_t> shape);

  // Fixed-width unicode array wide enough for the longest string (UTF-8 in, UCS-4 stored).
  static NpyArray from_strings(std::vector<std::int64_t> shape, const std::vector<std::string>& values);

  NpyKind kind() const { return kind_; }
  std::size_t itemsize() const { return itemsize_; }
  const std::vector<std::int64_t>& shape() const { return shape_; }
  std::size_t ndim() const { return shape_.size(); }
  std::size_t size() const { return size_; }
  std::size_t nbytes() const { return data_.size(); }
  // numpy's dtype string in little-endian notation, e.g. "<f4", "|u1", "<U7".
  std::string descr() const;

  const std::byte* bytes() const { return data_.data(); }
  std::byte* bytes() { return data_.data(); }

  // True when the element type is exactly T (bool for b1).
  template <typename T>
  bool holds() const;
  // Typed view; throws FormatError when the element type is not exactly T.
  template <typename T>
  const T* data() const;
  template <typename T>
  T* data();
  // All elements converted to T (bool and numeric kinds; unicode is an error).
  template <typename T>
  std::vector<T> to_vector() const;
  // Elements of a unicode array as UTF-8, trailing NULs removed.
  std::vector<std::string> strings() const;

 private:
  // Throws FormatError unless the element type is (kind, itemsize).
  void check_holds(NpyKind kind, std::size_t itemsize) const;
  [[noreturn]] static void throw_size_mismatch(std::size_t expected, std::size_t given);
  double element_as_double(std::size_t i) const;
  std::int64_t element_as_int(std::size_t i) const;

  NpyKind kind_ = NpyKind::floating;
  std::size_t itemsize_ = 8;
  std::vector<std::int64_t> shape_;
  std::size_t size_ = 0;
  detail::ByteBuffer data_;
};

// Parses an npy image held in memory. context names the file (and member) in messages.
NpyArray parse_npy(const std::byte* data, std::size_t size, const std::string& context);
// The npy image of an array: version 1.0, or 2.0 when the header does not fit 64 KiB.
std::vector<std::byte> encode_npy(const NpyArray& array);

// An array from raw element bytes as numpy keeps them: descr such as "<f8", the shape, the order.
// Converted to native byte order and C order like parse_npy.
NpyArray npy_from_raw(const std::string& descr, std::vector<std::int64_t> shape, bool fortran_order,
                      const std::byte* data, std::size_t size, const std::string& context);

NpyArray read_npy(const std::filesystem::path& path);
// Writes through NAME.partial and a rename (AtomicFile).
void write_npy(const std::filesystem::path& path, const NpyArray& array);

// Reads members of an .npz (a zip of .npy files, stored or deflated, zip64 included).
class NpzReader {
 public:
  explicit NpzReader(const std::filesystem::path& path);
  ~NpzReader();
  NpzReader(const NpzReader&) = delete;
  NpzReader& operator=(const NpzReader&) = delete;

  // Array names, i.e. member names without the ".npy" suffix, in archive order.
  const std::vector<std::string>& keys() const { return keys_; }
  bool contains(std::string_view key) const;
  // key with or without ".npy". A missing key is an InputError listing the keys present.
  NpyArray read(std::string_view key) const;
  // As read(key), into out, reusing its storage: a loop over many files allocates once.
  void read(std::string_view key, NpyArray& out) const;
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Zip;
  std::filesystem::path path_;
  std::unique_ptr<Zip> zip_;
  std::vector<std::string> keys_;
};

// Writes an .npz the way np.savez (compress = false) or np.savez_compressed (true) does. The
// archive appears at its path only when close() succeeds.
class NpzWriter {
 public:
  NpzWriter(const std::filesystem::path& path, bool compress);
  ~NpzWriter();
  NpzWriter(const NpzWriter&) = delete;
  NpzWriter& operator=(const NpzWriter&) = delete;

  void add(std::string_view key, const NpyArray& array);
  void close();

 private:
  std::filesystem::path path_;
  bool compress_;
  std::vector<std::pair<std::string, std::vector<std::byte>>> members_;
  bool closed_ = false;
};

// ---- template implementations ----

namespace detail {
template <typename T>
struct NpyTraits;
template <>
struct NpyTraits<bool> {
  static constexpr NpyKind kind = NpyKind::boolean;
};
template <>
struct NpyTraits<std::int8_t> {
  static constexpr NpyKind kind = NpyKind::signed_int;
};
template <>
struct NpyTraits<std::int16_t> {
  static constexpr NpyKind kind = NpyKind::signed_int;
};
template <>
struct NpyTraits<std::int32_t> {
  static constexpr NpyKind kind = NpyKind::signed_int;
};
template <>
struct NpyTraits<std::int64_t> {
  static constexpr NpyKind kind = NpyKind::signed_int;
};
template <>
struct NpyTraits<std::uint8_t> {
  static constexpr NpyKind kind = NpyKind::unsigned_int;
};
template <>
struct NpyTraits<std::uint16_t> {
  static constexpr NpyKind kind = NpyKind::unsigned_int;
};
template <>
struct NpyTraits<std::uint32_t> {
  static constexpr NpyKind kind = NpyKind::unsigned_int;
};
template <>
struct NpyTraits<std::uint64_t> {
  static constexpr NpyKind kind = NpyKind::unsigned_int;
};
template <>
struct NpyTraits<float> {
  static constexpr NpyKind kind = NpyKind::floating;
};
template <>
struct NpyTraits<double> {
  static constexpr NpyKind kind = NpyKind::floating;
};
std::size_t element_count(const std::vector<std::int64_t>& shape);
}  // namespace detail

template <typename T>
NpyArray NpyArray::from(std::vector<std::int64_t> shape, const std::vector<T>& values) {
  NpyArray array(detail::NpyTraits<T>::kind, sizeof(T), std::move(shape));
  if (values.size() != array.size()) throw_size_mismatch(array.size(), values.size());
  if constexpr (std::is_same_v<T, bool>) {
    for (std::size_t i = 0; i < values.size(); ++i)
      array.data_.data()[i] = std::byte{values[i] ? std::uint8_t{1} : std::uint8_t{0}};
  } else if (!values.empty()) {
    std::memcpy(array.data_.data(), values.data(), values.size() * sizeof(T));
  }
  return array;
}

template <typename T>
bool NpyArray::holds() const {
  return kind_ == detail::NpyTraits<T>::kind && itemsize_ == sizeof(T);
}

template <typename T>
const T* NpyArray::data() const {
  check_holds(detail::NpyTraits<T>::kind, sizeof(T));
  return reinterpret_cast<const T*>(data_.data());
}

template <typename T>
T* NpyArray::data() {
  check_holds(detail::NpyTraits<T>::kind, sizeof(T));
  return reinterpret_cast<T*>(data_.data());
}

template <typename T>
std::vector<T> NpyArray::to_vector() const {
  static_assert(std::is_arithmetic_v<T>, "to_vector converts to arithmetic types");
  std::vector<T> out(size_);
  if (holds<T>() && !std::is_same_v<T, bool>) {
    if (size_) std::memcpy(out.data(), data_.data(), data_.size());
    return out;
  }
  for (std::size_t i = 0; i < size_; ++i) {
    if constexpr (std::is_floating_point_v<T>) {
      out[i] = static_cast<T>(element_as_double(i));
    } else if constexpr (std::is_same_v<T, bool>) {
      out[i] = element_as_double(i) != 0.0;
    } else if (kind_ == NpyKind::floating) {
      out[i] = static_cast<T>(element_as_double(i));
    } else {
      out[i] = static_cast<T>(element_as_int(i));
    }
  }
  return out;
}

}  // namespace sbench
