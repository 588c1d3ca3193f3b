// The machinery shared by the importers and the task builders (`sbench import`, `sbench prepare`):
// schemas from task cards, outcome counts, split rules, and the parallel pipeline (ordered items ->
// parallel loading -> ordered appends to a StoreWriter).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "sbench/core/progress.hpp"
#include "sbench/core/tasks.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store {

// A store schema from a task card: its inputs, the targets of every task of its family (the six
// DHS tasks share a store), and its meta fields, typed as the card says.
Schema schema_from_card(const TaskCard& task, const TaskRegistry& registry);

// Counts outcomes and keeps the first few ids of each.
class Tally {
 public:
  void add(const std::string& status, const std::string& sample = "");
  ImportReport report(std::size_t written, std::size_t resumed) const;
  std::size_t count(const std::string& status) const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::size_t>> counts_;
  std::map<std::string, std::vector<std::string>> samples_;
};

// What loading one item produced: an example to append (status empty) or a status to count.
struct Loaded {
  std::string status;
  std::string sample;  // id or file to show for the status
  std::vector<SourceFile> files;
  // Statuses counted beside an appended example, with its id (tallied in item order like the rest).
  std::vector<std::string> notes;
  Loaded() = default;
  Loaded(std::string status_, std::string sample_ = "", std::vector<SourceFile> files_ = {})  // NOLINT: {status, id}
      : status(std::move(status_)), sample(std::move(sample_)), files(std::move(files_)) {}
};

// Runs items 0..count-1 through the pipeline. id_of(i) is called in order first: items whose id
// the writer already holds (a resume) are counted "resumed" and not loaded. load(i, example) runs
// on the worker threads, fills the example (id and split included) or returns a status. Appends
// happen in item order, so a run is deterministic whatever the thread count.
// `written` and `resumed` are the statuses counted for appended and resumed items.
void run_import(StoreWriter& writer, std::size_t count, int threads,
                const std::function<std::string(std::size_t)>& id_of,
                const std::function<Loaded(std::size_t, Example&)>& load, Tally& tally, const ProgressFn& progress,
                const std::string& written = "imported", const std::string& resumed = "resumed");

// A seeded random split that does not depend on the order or number of examples: the key (an
// example or region id) is hashed with the seed (FNV-1a, then splitmix64) to a number u in [0, 1),
// and u falls in train, val or test by the cumulative fractions, in that order. Adding or dropping
// examples never moves the others.
std::uint8_t hash_split(const std::string& key, std::uint64_t seed, const std::map<std::string, double>& fractions);

// The split code of a value under a by_country / by_region rule's member lists.
std::uint8_t split_of_member(const SplitSpec& split, const std::string& value);

// The normalization entries of a card as JSON (stored as the root attribute "normalization").
std::string normalization_json(const TaskCard& task);

}  // namespace sbench::store
