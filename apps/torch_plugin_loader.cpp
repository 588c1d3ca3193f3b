#include <dlfcn.h>
#include <fmt/format.h>

#include <filesystem>
#include <mutex>

#include "torch_plugin.hpp"

namespace sbench::app {

void* torch_plugin_symbol(const char* name, std::string& error) {
  static std::once_flag once;
  static void* handle = nullptr;
  static std::string load_error;
  std::call_once(once, [] {
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::string tried;
    for (const auto& dir : {exe.parent_path(), exe.parent_path().parent_path() / "lib" / "sbench"}) {
      const std::filesystem::path lib = dir / "libsbench_torch.so";
      if (!std::filesystem::exists(lib, ec)) {
        tried += (tried.empty() ? "" : ", ") + lib.string();
        continue;
      }
      handle = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        const char* e = dlerror();
        load_error = fmt::format("cannot load {}: {}", lib.string(), e ? e : "unknown error");
      }
      return;
    }
    load_error = fmt::format("the LibTorch module is missing (looked for {})", tried);
  });
  if (!handle) {
    error = load_error;
    return nullptr;
  }
  void* f = dlsym(handle, name);
  if (!f) error = fmt::format("the LibTorch module has no {}", name);
  return f;
}

}  // namespace sbench::app
