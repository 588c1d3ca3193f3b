// Small task stores of the tile tasks with a planted relation between tiles and labels, written
// straight through StoreWriter, for the loader and trainer tests.
#pragma once

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>

#include "sbench/core/tasks.hpp"
#include "sbench/store/pipeline.hpp"
#include "sbench/store/store.hpp"

namespace sbench::test {

// Writes n examples of task's store schema; fill sets the inputs, targets and meta of example i
// (every real-valued target starts NaN, other fields 0). Splits: i % 5 == 3 -> val, i % 5 == 4 -> test,
// else train.
inline void write_tile_store(const std::filesystem::path& path, const std::string& task_id, int n,
                             const std::function<void(store::Example&, int)>& fill,
                             store::Layout layout = store::Layout::archive) {
  const auto& reg = TaskRegistry::builtin();
  const TaskCard& task = reg.get(task_id);
  store::Schema schema = store::schema_from_card(task, reg);
  store::WriterOptions o;
  o.layout = layout;
  o.source = "test";
  store::StoreWriter w(path, schema, o);
  for (int i = 0; i < n; ++i) {
    store::Example e(w.schema());
    e.id = fmt::format("{}-{:04d}", task_id, i);
    e.split = i % 5 == 3 ? store::kVal : i % 5 == 4 ? store::kTest : store::kTrain;
    for (const auto& f : w.schema().fields) {
      const bool real = f.type == store::ElementType::float32 || f.type == store::ElementType::float64;
      if (f.group == store::Group::target && f.shape.empty() && real) e.set(f.name, std::nan(""));
      if (f.group == store::Group::meta && f.type == store::ElementType::string) e.set(f.name, std::string("x"));
    }
    fill(e, i);
    w.append(e);
  }
  w.finish();
}

// A smooth tile plane: base + amp * a pattern that depends on (seed, i, j), compressible.
inline float pattern(int seed, int i, int j) {
  return static_cast<float>(std::sin(0.1 * (i + 3 * seed)) * std::cos(0.07 * (j + 5 * seed)));
}

}  // namespace sbench::test
