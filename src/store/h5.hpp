// Small RAII and error helpers over the HDF5 C API, private to the store component.
#pragma once

#include <hdf5.h>

#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sbench/core/error.hpp"
#include "sbench/store/hdf5_env.hpp"
#include "sbench/store/schema.hpp"

namespace sbench::store::h5 {

// Owns an HDF5 identifier and closes it with the function that matches its kind.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  ~Handle() { reset(); }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }  // NOLINT: handles pass straight to the C API
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Throws IoError "<what>: <HDF5 error stack>" when status is negative; returns status otherwise.
template <typename T>
T check(T status, std::string_view what) {
  if (status < 0) {
    const std::string stack = hdf5_error_stack();
    H5Eclear2(H5E_DEFAULT);
    fail<IoError>("{}{}{}", what, stack.empty() ? "" : ": ", stack);
  }
  return status;
}

// The in-memory HDF5 type of an element type (a new variable-length UTF-8 type for strings).
Handle memory_type(ElementType type);

// Debian's HDF5 is built without thread safety: calls from several threads must not overlap.
// StoreReader::read holds this lock around its HDF5 calls (the archive layout) so that the
// training loader's threads can read one store at once.
std::mutex& library_mutex();
// The element type of a dataset's HDF5 type; an InputError for types sbench does not store.
ElementType element_type_of(hid_t type, std::string_view where);

void write_attribute(hid_t object, const char* name, std::string_view value);
void write_attribute(hid_t object, const char* name, const std::vector<std::string>& values);
void write_attribute(hid_t object, const char* name, std::int64_t value);
bool has_attribute(hid_t object, const char* name);
// Reads a string or string-array attribute (an array is returned joined by nothing: use the list form).
std::string read_string_attribute(hid_t object, const char* name, std::string_view where);
std::vector<std::string> read_string_list_attribute(hid_t object, const char* name, std::string_view where);
std::int64_t read_int_attribute(hid_t object, const char* name, std::string_view where);
// Copies every attribute of one object to another (any type, variable-length included).
void copy_attributes(hid_t from, hid_t to);

// A 1-D variable-length string dataset read whole / written whole.
std::vector<std::string> read_strings(hid_t dataset, std::string_view where);

}  // namespace sbench::store::h5
