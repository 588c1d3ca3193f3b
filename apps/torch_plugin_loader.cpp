#include <dlfcn.h>
#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "torch_plugin.hpp"

namespace {
std::atomic<bool> torch_loaded{false};
}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// LeakSanitizer's exit-time tracer crashes reading the dynamic TLS that LibTorch (loaded with
// dlopen) leaves in its worker threads (glibc 2.36, GCC 12): a process that loaded the module skips
// the leak check. AddressSanitizer's other checks still run; the learn tests that link LibTorch
// directly keep the leak check.
extern "C" __attribute__((visibility("default"), used)) int __lsan_is_turned_off() {
  return torch_loaded.load() ? 1 : 0;
}
#endif

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
      torch_loaded = handle != nullptr;
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
