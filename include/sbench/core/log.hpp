// Logging through spdlog: messages go to stderr so that stdout stays clean for tables and JSON.
#pragma once

#include <spdlog/spdlog.h>

namespace sbench {

// verbosity: -1 = quiet (errors only), 0 = info (default), 1 = debug (-v), 2+ = trace (-vv).
void init_logging(int verbosity);

}  // namespace sbench
