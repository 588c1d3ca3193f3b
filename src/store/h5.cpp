#include "h5.hpp"

#include <fmt/format.h>

#include <cstring>
#include <memory>

namespace sbench::store::h5 {

void Handle::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: H5Idec_ref(id_); break;
  }
  id_ = H5I_INVALID_HID;
}

Handle memory_type(ElementType type) {
  switch (type) {
    case ElementType::boolean:
    case ElementType::uint8: return Handle(H5Tcopy(H5T_NATIVE_UINT8));
    case ElementType::int8: return Handle(H5Tcopy(H5T_NATIVE_INT8));
    case ElementType::int16: return Handle(H5Tcopy(H5T_NATIVE_INT16));
    case ElementType::int32: return Handle(H5Tcopy(H5T_NATIVE_INT32));
    case ElementType::int64: return Handle(H5Tcopy(H5T_NATIVE_INT64));
    case ElementType::uint16: return Handle(H5Tcopy(H5T_NATIVE_UINT16));
    case ElementType::uint32: return Handle(H5Tcopy(H5T_NATIVE_UINT32));
    case ElementType::uint64: return Handle(H5Tcopy(H5T_NATIVE_UINT64));
    case ElementType::float32: return Handle(H5Tcopy(H5T_NATIVE_FLOAT));
    case ElementType::float64: return Handle(H5Tcopy(H5T_NATIVE_DOUBLE));
    case ElementType::string: {
      Handle t(H5Tcopy(H5T_C_S1));
      H5Tset_size(t, H5T_VARIABLE);
      H5Tset_cset(t, H5T_CSET_UTF8);
      return t;
    }
  }
  fail<Error>("unknown element type");
}

ElementType element_type_of(hid_t type, std::string_view where) {
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_STRING) return ElementType::string;
  if (cls == H5T_FLOAT) {
    if (size == 4) return ElementType::float32;
    if (size == 8) return ElementType::float64;
  }
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    switch (size) {
      case 1: return is_signed ? ElementType::int8 : ElementType::uint8;
      case 2: return is_signed ? ElementType::int16 : ElementType::uint16;
      case 4: return is_signed ? ElementType::int32 : ElementType::uint32;
      case 8: return is_signed ? ElementType::int64 : ElementType::uint64;
      default: break;
    }
  }
  if (cls == H5T_ENUM && size == 1) return ElementType::boolean;  // h5py's bool
  fail<InputError>("{}: unsupported HDF5 element type (class {}, {} bytes)", where, static_cast<int>(cls), size);
}

namespace {
Handle string_type() {
  return memory_type(ElementType::string);
}
}  // namespace

bool has_attribute(hid_t object, const char* name) {
  return H5Aexists(object, name) > 0;
}

void write_attribute(hid_t object, const char* name, std::string_view value) {
  if (has_attribute(object, name)) H5Adelete(object, name);
  Handle type = string_type();
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(
      check(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), fmt::format("attribute {}", name)));
  const std::string copy(value);
  const char* ptr = copy.c_str();
  check(H5Awrite(attr, type, &ptr), fmt::format("write attribute {}", name));
}

void write_attribute(hid_t object, const char* name, const std::vector<std::string>& values) {
  if (has_attribute(object, name)) H5Adelete(object, name);
  Handle type = string_type();
  const hsize_t n = values.size();
  Handle space(n == 0 ? H5Screate(H5S_NULL) : H5Screate_simple(1, &n, nullptr));
  Handle attr(
      check(H5Acreate2(object, name, type, space, H5P_DEFAULT, H5P_DEFAULT), fmt::format("attribute {}", name)));
  if (n == 0) return;
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check(H5Awrite(attr, type, ptrs.data()), fmt::format("write attribute {}", name));
}

void write_attribute(hid_t object, const char* name, std::int64_t value) {
  if (has_attribute(object, name)) H5Adelete(object, name);
  Handle space(H5Screate(H5S_SCALAR));
  Handle attr(check(H5Acreate2(object, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT),
                    fmt::format("attribute {}", name)));
  check(H5Awrite(attr, H5T_NATIVE_INT64, &value), fmt::format("write attribute {}", name));
}

std::vector<std::string> read_string_list_attribute(hid_t object, const char* name, std::string_view where) {
  if (!has_attribute(object, name)) fail<InputError>("{}: no attribute '{}'", where, name);
  Handle attr(check(H5Aopen(object, name, H5P_DEFAULT), fmt::format("{}: attribute {}", where, name)));
  Handle ftype(H5Aget_type(attr));
  if (H5Tget_class(ftype) != H5T_STRING) fail<InputError>("{}: attribute '{}' is not a string", where, name);
  Handle space(H5Aget_space(attr));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (H5Sget_simple_extent_type(space) == H5S_NULL || n <= 0) return {};
  std::vector<std::string> out;
  if (H5Tis_variable_str(ftype) > 0) {
    Handle type = string_type();
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    check(H5Aread(attr, type, ptrs.data()), fmt::format("{}: read attribute {}", where, name));
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
  } else {
    // Fixed-length strings (as h5py writes numpy 'S' arrays).
    const std::size_t len = H5Tget_size(ftype);
    std::vector<char> buf(len * static_cast<std::size_t>(n));
    check(H5Aread(attr, ftype, buf.data()), fmt::format("{}: read attribute {}", where, name));
    for (hssize_t i = 0; i < n; ++i) {
      const char* s = buf.data() + static_cast<std::size_t>(i) * len;
      out.emplace_back(s, strnlen(s, len));
    }
  }
  return out;
}

std::string read_string_attribute(hid_t object, const char* name, std::string_view where) {
  auto list = read_string_list_attribute(object, name, where);
  if (list.size() != 1) fail<InputError>("{}: attribute '{}' holds {} strings, expected one", where, name, list.size());
  return list[0];
}

std::int64_t read_int_attribute(hid_t object, const char* name, std::string_view where) {
  if (!has_attribute(object, name)) fail<InputError>("{}: no attribute '{}'", where, name);
  Handle attr(check(H5Aopen(object, name, H5P_DEFAULT), fmt::format("{}: attribute {}", where, name)));
  std::int64_t value = 0;
  check(H5Aread(attr, H5T_NATIVE_INT64, &value), fmt::format("{}: read attribute {}", where, name));
  return value;
}

namespace {
herr_t copy_one(hid_t from, const char* name, const H5A_info_t*, void* data) {
  const hid_t to = *static_cast<hid_t*>(data);
  Handle attr(H5Aopen(from, name, H5P_DEFAULT));
  Handle type(H5Aget_type(attr));
  Handle space(H5Aget_space(attr));
  Handle mtype(H5Tget_native_type(type, H5T_DIR_DEFAULT));
  const hssize_t n = std::max<hssize_t>(1, H5Sget_simple_extent_npoints(space));
  std::vector<unsigned char> buf(H5Tget_size(mtype) * static_cast<std::size_t>(n));
  if (H5Aread(attr, mtype, buf.data()) < 0) return -1;
  if (H5Aexists(to, name) > 0) H5Adelete(to, name);
  Handle out(H5Acreate2(to, name, type, space, H5P_DEFAULT, H5P_DEFAULT));
  const herr_t status = H5Awrite(out, mtype, buf.data());
  if (H5Tdetect_class(mtype, H5T_VLEN) > 0 || H5Tis_variable_str(mtype) > 0) {
    H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf.data());
  }
  return status;
}
}  // namespace

void copy_attributes(hid_t from, hid_t to) {
  hid_t target = to;
  check(H5Aiterate2(from, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr, copy_one, &target), "copy attributes");
}

std::vector<std::string> read_strings(hid_t dataset, std::string_view where) {
  Handle space(H5Dget_space(dataset));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (n <= 0) return {};
  Handle ftype(H5Dget_type(dataset));
  if (H5Tget_class(ftype) != H5T_STRING) fail<InputError>("{}: not a string dataset", where);
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(n));
  if (H5Tis_variable_str(ftype) > 0) {
    Handle type = string_type();
    std::vector<char*> ptrs(static_cast<std::size_t>(n), nullptr);
    check(H5Dread(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()), fmt::format("{}: read", where));
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(type, space, H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t len = H5Tget_size(ftype);
    std::vector<char> buf(len * static_cast<std::size_t>(n));
    check(H5Dread(dataset, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), fmt::format("{}: read", where));
    for (hssize_t i = 0; i < n; ++i) {
      const char* s = buf.data() + static_cast<std::size_t>(i) * len;
      out.emplace_back(s, strnlen(s, len));
    }
  }
  return out;
}

std::mutex& library_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace sbench::store::h5
