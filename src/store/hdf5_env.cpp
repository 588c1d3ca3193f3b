#include "sbench/store/hdf5_env.hpp"

#include <fmt/format.h>
#include <hdf5.h>

#include <vector>

namespace sbench::store {

void init_hdf5() {
  H5open();
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

namespace {
herr_t collect(unsigned, const H5E_error2_t* err, void* data) {
  auto* out = static_cast<std::vector<std::string>*>(data);
  if (err->desc && *err->desc) out->emplace_back(err->desc);
  return 0;
}
}  // namespace

std::string hdf5_error_stack() {
  std::vector<std::string> messages;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &messages);
  return fmt::format("{}", fmt::join(messages, "; "));
}

DependencyInfo hdf5_info() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  hbool_t threadsafe = 0;
  H5is_library_threadsafe(&threadsafe);
  return {"HDF5", fmt::format("{}.{}.{}", H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE),
          fmt::format("{}.{}.{}", major, minor, release),
          threadsafe ? "thread-safe build" : "not thread-safe: calls are serialized"};
}

}  // namespace sbench::store
