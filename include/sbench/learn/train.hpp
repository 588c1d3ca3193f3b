// Training and prediction with the neural baselines (docs/training.md). This header does not
// include LibTorch: the CLI's LibTorch module calls it.
#pragma once

#include <cstdint>
#include <string>

#include "sbench/baseline/train_config.hpp"
#include "sbench/core/tasks.hpp"

namespace sbench::learn {

struct TrainRequest {
  std::string store;             // the task store
  std::string out;               // the run folder
  baseline::TrainConfig config;  // resolved settings
  std::int64_t max_steps = 0;    // > 0: stop after this many optimizer steps (the epoch ends there)
  bool resume = false;           // continue from out/checkpoint.pt with the same settings
  std::string device = "auto";   // auto, cpu, cuda
  bool quiet = false;            // no progress bar
};

// Trains config.model on the store's train split, validates on its val split each epoch, writes
// out/config.json, out/run.json, out/log.jsonl, out/checkpoint.pt (each epoch) and out/best.pt
// (the best validation metric). Returns a summary for the terminal.
std::string train(const TaskCard& task, const TrainRequest& request);

struct PredictRequest {
  std::string run;             // the run folder of train()
  std::string store;           // the store to predict
  std::string split = "test";  // train, val or test
  std::string out;             // the submission CSV
  std::string device = "auto";
};

// Predicts a split in the submission format of docs/submissions.md with the run's best weights.
std::string predict(const TaskCard& task, const PredictRequest& request);

}  // namespace sbench::learn
