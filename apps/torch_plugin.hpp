// Loading the LibTorch module of the CLI (libsbench_torch.so) on demand.
#pragma once

#include <string>

namespace sbench::app {

// The module's function `name`, loaded on first use from the executable's folder or from
// ../lib/sbench beside it; nullptr with `error` set when the module or the function is missing.
void* torch_plugin_symbol(const char* name, std::string& error);

}  // namespace sbench::app
