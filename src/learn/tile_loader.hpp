// The loader of the tile tasks (docs/training.md): a tbb::parallel_pipeline from a task store to
// batches of normalized (N, C, H, W) float tensors. The inputs of a task (x, or x_before and
// x_after) are stacked along C; every example is normalized with the card's constants for its
// group (night lights by sensor) and, for bands the card leaves alone, statistics of the training
// split; training tiles are flipped and rotated by multiples of 90 degrees. A pass reads its
// examples in an order that depends only on the seed and the epoch, with at most `prefetch` + 2
// batches in memory (those in the pipeline, one queued, the one being trained on). Internal to src/learn: includes
// LibTorch.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sbench/core/tasks.hpp"
#include "sbench/store/store.hpp"

namespace sbench::learn {

// Per-channel (mean, std) of every example: tables[table_of[row]].
struct TileNormalizer {
  std::vector<std::vector<float>> mean, std;  // per table, per channel
  std::vector<std::uint32_t> table_of;        // per store row
};

// The card's normalization of the stacked channels of `inputs`, per example; channels the card
// does not cover for an example use fallback_mean / fallback_std (per channel).
TileNormalizer card_normalizer(const TaskCard& task, const store::StoreReader& store,
                               const std::vector<std::string>& inputs, const std::vector<double>& fallback_mean,
                               const std::vector<double>& fallback_std);

// Mean and population standard deviation of each stacked channel over the pixels of `rows`
// (NaN pixels left out); a constant channel gets std 1.
void channel_statistics(const store::StoreReader& store, const std::vector<std::string>& inputs,
                        const std::vector<std::size_t>& rows, std::vector<double>& mean, std::vector<double>& std);

// How an input is stacked: C x H x W tiles as they are; series as C channels of height 1 and
// width T: C x T as they are, T as one channel, a B x T x C histogram as B * C channels (channel
// c * B + b holds band c's bin b over time). axes is empty for an input the loader cannot stack.
struct InputLayout {
  std::string axes;
  std::int64_t channels = 1, height = 1, width = 1;
  std::int64_t steps = 0;  // C x T x H x W time series of tiles: T (the loader samples time_steps of them)
};
InputLayout layout_of(const store::Field& field);
// One example of field (its values as float, in storage order) in the stacked order.
void to_channels_first(const float* raw, const store::Field& field, float* out);

// The inputs of the card that the models stack: all tiles of one H x W (C x T x H x W time series
// of tiles among them), or all series of one length T. A T input named `<X>_dates` beside a
// C x T x H x W input X is X's dates (0: padding), not stacked. An InputError naming the store when
// the store lacks one or the shapes differ.
std::vector<std::string> tile_inputs(const TaskCard& task, const store::StoreReader& store);

// The rows of a pass in order: shuffled by (seed, epoch) with a Fisher-Yates shuffle over a
// SplitMix64 stream (the same on every platform), or as given.
std::vector<std::size_t> pass_order(std::vector<std::size_t> rows, bool shuffle, std::uint64_t seed,
                                    std::int64_t epoch);

// The augmentation of one example in a pass: 0-7, the dihedral transform (bit 2: mirror left-right,
// bits 0-1: quarter turns counter-clockwise); tiles that are not square only mirror (bit 0:
// left-right, bit 1: up-down).
int augmentation_of(std::uint64_t seed, std::int64_t epoch, std::size_t row);

// At most `k` time steps sampled from a series of `t` steps whose dates are `dates` (0: padding;
// all valid when dates is null), in time order: with more than k valid steps, in training a random
// subset drawn by (seed, epoch, row, input), otherwise evenly spaced; with k or fewer, every valid
// step once. Empty when no step is valid.
std::vector<std::int64_t> pick_steps(const std::int32_t* dates, std::int64_t t, std::int64_t k, bool random,
                                     std::uint64_t seed, std::int64_t epoch, std::size_t row, std::size_t input);

// Applies augmentation `op` to one H x W plane (src and dst distinct).
void augment_plane(const float* src, float* dst, std::int64_t h, std::int64_t w, int op);

struct TileBatch {
  std::int64_t index = 0;  // position of the batch in the pass
  torch::Tensor x;         // (n, C, H, W) float32, pinned when the loader pins
  torch::Tensor y;         // (n, H, W) float32: the mask target or the labelled pixel, transformed as x (when asked)
  std::vector<std::size_t> rows;     // store rows of the n examples
  std::vector<torch::Tensor> extra;  // what LoaderOptions::extra read beside the tiles
};

struct LoaderOptions {
  std::size_t batch_size = 32;
  int threads = 0;   // 0: TBB's default (every core)
  int prefetch = 4;  // batches in flight
  bool pin_memory = false;
  std::string mask;  // a target field of H x W masks to load beside the tiles (dense tasks); "" none
  // Single labelled pixels (cropland's point_label), per store row: y is -1 everywhere but at
  // (point_row, point_col), which holds the label (a NaN label or a position outside the tile: all -1).
  // Used instead of mask when point_label is not empty.
  std::vector<double> point_label, point_row, point_col;
  // C x T x H x W inputs: the time steps sampled per example (required for them). Each such input
  // is stacked as time_steps x C planes (step-major) and then time_steps planes of 1 (a sampled
  // step) or 0 (an empty slot: the series has fewer valid dates; its planes are 0).
  std::int64_t time_steps = 0;
  // Inputs read beside the tiles on the loader's threads, into TileBatch::extra: called with the
  // batch's rows and the pass's (train = shuffle, seed, epoch); the street images of the clusters.
  std::function<std::vector<torch::Tensor>(const std::vector<std::size_t>& rows, bool train, std::uint64_t seed,
                                           std::int64_t epoch)>
      extra;
};

class TileLoader {
 public:
  TileLoader(const store::StoreReader& store, std::vector<std::string> inputs, TileNormalizer normalizer,
             LoaderOptions options);
  std::int64_t channels() const { return channels_; }
  std::int64_t height() const { return height_; }
  std::int64_t width() const { return width_; }
  // C of each C x T x H x W input, in stacking order (empty when there is none).
  std::vector<std::int64_t> series_channels() const;
  // Whether every stacked input is a C x T x H x W time series of tiles.
  bool only_series() const;

  // One pass over rows: batches in pass order, each handed to consume on the calling thread;
  // consume returning false ends the pass early. Reading and decoding run on the loader's threads.
  void pass(const std::vector<std::size_t>& rows, bool shuffle, bool augment, std::uint64_t seed, std::int64_t epoch,
            const std::function<bool(TileBatch&)>& consume) const;

  // The batch of the given rows, no augmentation (tests, prediction of single examples).
  TileBatch batch(const std::vector<std::size_t>& rows) const;

 private:
  // train: a training pass (random dates of time series); augment: flips and turns.
  void fill(TileBatch& b, bool train, bool augment, std::uint64_t seed, std::int64_t epoch) const;
  const store::StoreReader& store_;
  std::vector<std::string> inputs_;
  std::vector<std::int64_t> input_channels_;      // C of each input (its base channels)
  std::vector<std::int64_t> input_steps_;         // T of a C x T x H x W input, else 0
  std::vector<const store::Field*> input_dates_;  // its `<name>_dates` field, if any
  std::int64_t base_channels_ = 0;                // channels of the normalization (C per input)
  std::vector<store::ElementType> input_types_;
  std::vector<const store::Field*> input_fields_;
  store::ElementType mask_type_ = store::ElementType::uint8;
  TileNormalizer norm_;
  LoaderOptions options_;
  std::int64_t channels_ = 0, height_ = 0, width_ = 0;
  struct Scratch {
    std::vector<std::byte> raw;
    std::vector<float> values, scratch, reorder;
    std::vector<std::int32_t> dates;  // of a time series of tiles
  };
  // Buffers reused across batches: a fill takes one set and gives it back, so there are as many
  // sets as fills ever ran at once (not one per thread that ever filled: each pass has a new
  // producer thread).
  mutable std::mutex scratch_mutex_;
  mutable std::vector<std::unique_ptr<Scratch>> scratch_;
};

}  // namespace sbench::learn
