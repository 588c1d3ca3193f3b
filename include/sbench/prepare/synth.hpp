// `sbench synth`: small, realistic raw input sets for `sbench prepare`, in the sensors' real
// product layouts, with a documented relation planted between the imagery and the labels
// (docs/prepare.md). Deterministic by seed: the same seed writes the same files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"

namespace sbench::prepare {

struct SynthOptions {
  std::filesystem::path out;  // a folder; created, and it must be empty if it exists
  std::uint64_t seed = 0;
  int n = 0;            // examples (clusters for the DHS tasks); 0 = the task's default
  bool street = false;  // DHS tasks: also street-level images of a third of the clusters (mapillary/)
};

struct SynthResult {
  std::vector<std::string> files;          // every file written, relative to out
  std::string labels;                      // the label file
  std::vector<std::string> imagery;        // the imagery folders
  std::vector<std::string> extra_options;  // further prepare options (brick_kiln: --region FILE)
  std::string prepare_command;             // the exact `sbench prepare ...` for this output
  std::string street_command;              // with street images: the `sbench street import ...` after it
};

// Families `synth` writes so far.
std::vector<std::string> synth_families();

SynthResult synth_task(const TaskCard& task, const SynthOptions& options);

}  // namespace sbench::prepare
