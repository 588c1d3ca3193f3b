// The LibTorch side of the CLI, built as a module that the sbench executable loads with dlopen
// only when a command needs LibTorch: LibTorch's static initialisers cost about 0.6 s, which every
// other command (tile, eval, import, ...) would otherwise pay at start-up (docs/build.md).
//
// Errors do not cross the module boundary as exceptions (the module has its own copy of the error
// types): each entry point returns the exit code and writes the message into `error`.
#include <c10/util/Exception.h>
#include <fmt/format.h>

#include <cstddef>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "sbench/core/error.hpp"
#include "sbench/learn/torch_env.hpp"
#include "sbench/learn/train.hpp"

namespace {

void copy_out(const std::string& text, char* out, std::size_t cap) {
  if (cap == 0) return;
  const std::size_t n = std::min(text.size(), cap - 1);
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

// Runs f, mapping errors to exit codes (0 ok, 1 failure, 2 usage) and a message.
template <typename F>
int guarded(F&& f, char* error, std::size_t cap) {
  try {
    f();
    return 0;
  } catch (const sbench::Error& e) {
    copy_out(e.what(), error, cap);
    return static_cast<int>(e.exit_code());
  } catch (const c10::Error& e) {
    copy_out(fmt::format("LibTorch: {}", e.what_without_backtrace()), error, cap);
    return 1;
  } catch (const std::exception& e) {
    copy_out(e.what(), error, cap);
    return 1;
  } catch (...) {
    copy_out("unknown error in the LibTorch module", error, cap);
    return 1;
  }
}

// The task card travels as its JSON (the registry may be the built-in one or --datasets).
sbench::TaskCard card_of(const nlohmann::json& request) {
  const auto reg = sbench::TaskRegistry::from_sources(
      {{request.at("card_file").get<std::string>(), request.at("card").get<std::string>()}}, {});
  return reg.tasks().front();
}

}  // namespace

extern "C" {

// Sets LibTorch's threads and writes {"compiled", "runtime", "notes", "threads"} as JSON into
// out (NUL-terminated, at most cap bytes). Returns 0, or 1 when out is too small.
__attribute__((visibility("default"))) int sbench_torch_doctor(int threads, char* out, std::size_t cap) {
  std::string j;
  const int rc = guarded(
      [&] {
        const int set = sbench::learn::configure_threads(threads);
        const sbench::DependencyInfo info = sbench::learn::torch_info();
        j =
            nlohmann::json{
                {"compiled", info.compiled}, {"runtime", info.runtime}, {"notes", info.notes}, {"threads", set}}
                .dump();
      },
      out, cap);
  if (rc != 0) return 1;
  if (j.size() + 1 > cap) return 1;
  std::memcpy(out, j.c_str(), j.size() + 1);
  return 0;
}

// request: {"card", "card_file", "store", "out", "config" (resolved settings), "max_steps",
// "resume", "device", "quiet"}. Prints the summary on stdout.
__attribute__((visibility("default"))) int sbench_torch_train(const char* request, char* error, std::size_t cap) {
  return guarded(
      [&] {
        const auto j = nlohmann::json::parse(request);
        sbench::learn::TrainRequest r;
        r.store = j.at("store");
        r.out = j.at("out");
        r.config = sbench::baseline::TrainConfig::from_json(j.at("config"), "the training settings");
        r.max_steps = j.at("max_steps");
        r.resume = j.at("resume");
        r.device = j.at("device");
        r.quiet = j.at("quiet");
        std::cout << sbench::learn::train(card_of(j), r) << std::flush;
      },
      error, cap);
}

// request: {"card", "card_file", "run", "store", "split", "out", "device"}.
__attribute__((visibility("default"))) int sbench_torch_predict(const char* request, char* error, std::size_t cap) {
  return guarded(
      [&] {
        const auto j = nlohmann::json::parse(request);
        sbench::learn::PredictRequest r;
        r.run = j.at("run");
        r.store = j.at("store");
        r.split = j.at("split");
        r.out = j.at("out");
        r.device = j.at("device");
        std::cout << sbench::learn::predict(card_of(j), r) << std::flush;
      },
      error, cap);
}
}
