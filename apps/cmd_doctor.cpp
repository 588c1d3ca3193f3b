// sbench doctor: the versions of every dependency, CUDA, thread counts, and whether the task
// registry loads. Exits 1 when something sbench needs is broken.
#include <fmt/format.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/version.h>

#include <CLI/Version.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "sbench/core/error.hpp"
#include "sbench/core/sysinfo.hpp"
#include "sbench/core/version.hpp"
#include "sbench/store/hdf5_env.hpp"
#ifdef SBENCH_WITH_GDAL
#include "sbench/raster/gdal_env.hpp"
#endif
#ifdef SBENCH_WITH_TORCH
#include "torch_plugin.hpp"
#endif

namespace sbench::app {

namespace {

struct DoctorOptions {
  bool json = false;
  int threads = 0;
};

std::string build_summary() {
  return fmt::format("{} build, GCC {}.{}.{}, GDAL part {}, LibTorch part {}, sanitizers {}", SBENCH_BUILD_TYPE,
                     __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__, SBENCH_HAS_GDAL ? "on" : "off",
                     SBENCH_HAS_TORCH ? "on" : "off", SBENCH_HAS_SANITIZERS ? "on" : "off");
}

int run_doctor(Context& ctx, const DoctorOptions& opts) {
  const int cores = available_cores();
  const int threads = opts.threads > 0 ? opts.threads : cores;
  std::vector<DependencyInfo> deps = core_dependencies();
  deps.push_back({"CLI11", CLI11_VERSION, "", ""});
  deps.push_back({"oneTBB", TBB_VERSION_STRING, TBB_runtime_version(),
                  fmt::format("default concurrency {}", oneapi::tbb::info::default_concurrency())});
  deps.push_back(store::hdf5_info());
#ifdef SBENCH_WITH_GDAL
  for (auto& d : raster::gdal_info()) deps.push_back(std::move(d));
#else
  deps.push_back({"GDAL", "", "", "not built (SBENCH_WITH_GDAL=OFF)"});
  deps.push_back({"PROJ", "", "", "not built (SBENCH_WITH_GDAL=OFF)"});
#endif
  int torch_threads = 0;
  bool ok = true;
#ifdef SBENCH_WITH_TORCH
  {
    std::string error;
    using DoctorFn = int (*)(int, char*, std::size_t);
    auto fn = reinterpret_cast<DoctorFn>(torch_plugin_symbol("sbench_torch_doctor", error));
    std::string buf(4096, '\0');
    if (fn && fn(threads, buf.data(), buf.size()) == 0) {
      const auto j = nlohmann::json::parse(buf.c_str());
      torch_threads = j.at("threads").get<int>();
      deps.push_back({"LibTorch", j.at("compiled").get<std::string>(), j.at("runtime").get<std::string>(),
                      j.at("notes").get<std::string>()});
    } else {
      deps.push_back({"LibTorch", "", "", fmt::format("BROKEN: {}", error)});
      ok = false;
    }
  }
#else
  deps.push_back({"LibTorch", "", "", "not built (SBENCH_WITH_TORCH=OFF)"});
#endif

  std::string registry_status;
  try {
    const auto& reg = ctx.registry();
    registry_status = fmt::format("{} tasks ({})", reg.tasks().size(), reg.origin());
  } catch (const Error& e) {
    registry_status = fmt::format("BROKEN: {}", e.what());
    ok = false;
  }

  if (opts.json) {
    nlohmann::json j;
    j["sbench"] = version();
    j["build"] = build_summary();
    j["cores"] = cores;
    j["torch_threads"] = torch_threads;
    j["task_registry"] = registry_status;
    for (const auto& d : deps) {
      j["dependencies"].push_back(
          {{"name", d.name}, {"compiled", d.compiled}, {"runtime", d.runtime}, {"notes", d.notes}});
    }
    std::cout << j.dump(2) << '\n';
  } else {
    std::cout << fmt::format("sbench {} ({})\n\n", version(), build_summary());
    std::cout << fmt::format("{:<14}  {:<12}  {:<12}  {}\n", "DEPENDENCY", "COMPILED", "RUNTIME", "NOTES");
    for (const auto& d : deps) {
      std::cout << fmt::format("{:<14}  {:<12}  {:<12}  {}\n", d.name, d.compiled.empty() ? "-" : d.compiled,
                               d.runtime.empty() ? "-" : d.runtime, d.notes);
    }
    std::cout << fmt::format("\ncores available: {}\n", cores);
    if (SBENCH_HAS_TORCH) std::cout << fmt::format("LibTorch threads: {} (set to {})\n", torch_threads, threads);
    std::cout << fmt::format("task registry: {}\n", registry_status);
  }
  return ok ? 0 : 1;
}

}  // namespace

void add_doctor_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<DoctorOptions>();
  auto* doctor = app.add_subcommand("doctor", "Report dependency versions, CUDA and thread counts");
  doctor->add_flag("--json", opts->json, "Print the report as JSON");
  doctor->add_option("--threads", opts->threads, "LibTorch threads to set (default: the available cores)")
      ->check(CLI::PositiveNumber);
  doctor->callback([&ctx, opts] { ctx.action = [&ctx, opts] { return run_doctor(ctx, *opts); }; });
}

}  // namespace sbench::app
