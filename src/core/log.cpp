#include "sbench/core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace sbench {

void init_logging(int verbosity) {
  auto logger = spdlog::get("sbench");
  if (!logger) logger = spdlog::stderr_color_mt("sbench");
  logger->set_pattern("%^%l%$: %v");
  spdlog::level::level_enum level = spdlog::level::info;
  if (verbosity < 0) level = spdlog::level::err;
  if (verbosity == 1) level = spdlog::level::debug;
  if (verbosity >= 2) level = spdlog::level::trace;
  logger->set_level(level);
  spdlog::set_default_logger(logger);
}

}  // namespace sbench
