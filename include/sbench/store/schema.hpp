// What a task store holds: its fields (datasets with one entry per example) and their types.
// The HDF5 layout is documented in docs/store.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbench::store {

enum class Layout { archive, train };
std::string_view to_string(Layout layout);
// "archive" or "train"; anything else is a UsageError.
Layout parse_layout(std::string_view text);

enum class ElementType { boolean, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, string };
std::string_view to_string(ElementType type);
// numpy-style names as in the task cards: bool, int8 ... float64, string.
ElementType parse_element_type(std::string_view name);
// Bytes per element; 0 for variable-length strings.
std::size_t element_size(ElementType type);

enum class Group { input, target, meta };
std::string_view to_string(Group group);  // "inputs", "targets", "meta": the HDF5 group names

// A dataset with one entry per example, at /<group>/<name>.
struct Field {
  Group group = Group::meta;
  std::string name;
  ElementType type = ElementType::float64;
  std::vector<std::int64_t> shape;  // per example; empty for a scalar
  std::vector<std::string> bands;   // inputs: the name of each channel
  std::string axes;                 // inputs: one letter per dimension (C, T, H, W, B)
  std::string units;

  std::size_t values_per_example() const;
  // Bytes per example (0 for strings).
  std::size_t example_bytes() const;
  std::string path() const;  // "/inputs/x"
};

// The split codes of /meta/split.
inline constexpr std::uint8_t kTrain = 0;
inline constexpr std::uint8_t kVal = 1;
inline constexpr std::uint8_t kTest = 2;
inline constexpr std::uint8_t kNoSplit = 3;     // outside the task's split rule
const std::vector<std::string>& split_names();  // train, val, test, none
// Code of a split name; a UsageError naming the valid names otherwise.
std::uint8_t split_code(std::string_view name);

struct Schema {
  std::string task;                // the task id the store was made for
  std::string family;              // its family in the registry
  std::vector<std::string> tasks;  // every task the store serves (the six DHS tasks share one)
  // Every field except /meta/id and /meta/split, which every store has.
  std::vector<Field> fields;

  // Index of a field; an InputError naming the fields that exist otherwise.
  std::size_t index(std::string_view name) const;
  const Field& field(std::string_view name) const { return fields[index(name)]; }
  const Field* find(std::string_view name) const;
  std::vector<const Field*> group(Group g) const;
  // A canonical text of the fields, to tell whether a partial store was made with this schema.
  std::string digest() const;
};

// One example in memory, with storage for every field of a schema.
class Example {
 public:
  explicit Example(const Schema& schema);

  std::string id;
  std::uint8_t split = kNoSplit;

  const Schema& schema() const { return *schema_; }
  // Raw storage of a fixed-size field (example_bytes() bytes).
  std::byte* bytes(std::size_t field) { return data_[field].data(); }
  const std::byte* bytes(std::size_t field) const { return data_[field].data(); }
  std::byte* bytes(std::string_view name) { return bytes(schema_->index(name)); }
  template <typename T>
  T* as(std::string_view name) {
    return reinterpret_cast<T*>(bytes(name));
  }

  // Scalar fields: the value converted to the field's type (NaN only for float fields).
  void set(std::string_view name, double value);
  void set(std::string_view name, std::string value);
  const std::string& text(std::size_t field) const { return text_[field]; }

 private:
  friend class StoreWriter;
  const Schema* schema_;
  std::vector<std::vector<std::byte>> data_;
  std::vector<std::string> text_;
  // Filled by StoreWriter::pack() on a worker thread, used by append() on the writing one.
  std::vector<std::vector<std::byte>> packed_;
  std::optional<std::uint32_t> crc_;
};

}  // namespace sbench::store
