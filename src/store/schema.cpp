#include "sbench/store/schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "sbench/core/error.hpp"

namespace sbench::store {

std::string_view to_string(Layout layout) {
  return layout == Layout::train ? "train" : "archive";
}

Layout parse_layout(std::string_view text) {
  if (text == "archive") return Layout::archive;
  if (text == "train") return Layout::train;
  fail<UsageError>("unknown store layout '{}' (valid: archive, train)", text);
}

namespace {
struct TypeInfo {
  ElementType type;
  const char* name;
  std::size_t size;
};
constexpr TypeInfo kTypes[] = {
    {ElementType::boolean, "bool", 1},    {ElementType::int8, "int8", 1},       {ElementType::int16, "int16", 2},
    {ElementType::int32, "int32", 4},     {ElementType::int64, "int64", 8},     {ElementType::uint8, "uint8", 1},
    {ElementType::uint16, "uint16", 2},   {ElementType::uint32, "uint32", 4},   {ElementType::uint64, "uint64", 8},
    {ElementType::float32, "float32", 4}, {ElementType::float64, "float64", 8}, {ElementType::string, "string", 0},
};
const TypeInfo& info(ElementType t) {
  for (const auto& i : kTypes) {
    if (i.type == t) return i;
  }
  fail<Error>("unknown element type");
}
}  // namespace

std::string_view to_string(ElementType type) {
  return info(type).name;
}

ElementType parse_element_type(std::string_view name) {
  for (const auto& i : kTypes) {
    if (name == i.name) return i.type;
  }
  fail<InputError>("unknown element type '{}'", name);
}

std::size_t element_size(ElementType type) {
  return info(type).size;
}

std::string_view to_string(Group group) {
  switch (group) {
    case Group::input: return "inputs";
    case Group::target: return "targets";
    case Group::meta: return "meta";
  }
  return "?";
}

std::size_t Field::values_per_example() const {
  std::size_t n = 1;
  for (auto d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

std::size_t Field::example_bytes() const {
  return values_per_example() * element_size(type);
}

std::string Field::path() const {
  return fmt::format("/{}/{}", to_string(group), name);
}

const std::vector<std::string>& split_names() {
  static const std::vector<std::string> names = {"train", "val", "test", "none"};
  return names;
}

std::uint8_t split_code(std::string_view name) {
  const auto& names = split_names();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<std::uint8_t>(i);
  }
  fail<UsageError>("unknown split '{}' (valid: {})", name, fmt::join(names, ", "));
}

std::size_t Schema::index(std::string_view name) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return i;
  }
  std::vector<std::string> names;
  for (const auto& f : fields) names.push_back(f.name);
  fail<InputError>("store of task '{}' has no field '{}' (fields: {})", task, name, fmt::join(names, ", "));
}

const Field* Schema::find(std::string_view name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::vector<const Field*> Schema::group(Group g) const {
  std::vector<const Field*> out;
  for (const auto& f : fields) {
    if (f.group == g) out.push_back(&f);
  }
  return out;
}

std::string Schema::digest() const {
  std::string d = fmt::format("task={};family={};tasks={}", task, family, fmt::join(tasks, ","));
  for (const auto& f : fields) {
    d += fmt::format("|{}:{}:{}:{}:{}", f.path(), to_string(f.type), fmt::join(f.shape, "x"), fmt::join(f.bands, ","),
                     f.axes);
  }
  return d;
}

Example::Example(const Schema& schema) : schema_(&schema), data_(schema.fields.size()), text_(schema.fields.size()) {
  for (std::size_t i = 0; i < schema.fields.size(); ++i) data_[i].resize(schema.fields[i].example_bytes());
}

namespace {
template <typename T>
void store_as(std::byte* dst, double value) {
  const T v = static_cast<T>(value);
  std::memcpy(dst, &v, sizeof v);
}
}  // namespace

void Example::set(std::string_view name, double value) {
  const std::size_t i = schema_->index(name);
  const Field& f = schema_->fields[i];
  if (!f.shape.empty()) fail<Error>("field '{}' is not a scalar", name);
  const bool is_float = f.type == ElementType::float32 || f.type == ElementType::float64;
  if (!is_float && !std::isfinite(value)) {
    fail<InputError>("example {}: field '{}' ({}) cannot hold {}", id, name, to_string(f.type), value);
  }
  std::byte* dst = data_[i].data();
  switch (f.type) {
    case ElementType::boolean: store_as<std::uint8_t>(dst, value != 0 ? 1 : 0); break;
    case ElementType::int8: store_as<std::int8_t>(dst, value); break;
    case ElementType::int16: store_as<std::int16_t>(dst, value); break;
    case ElementType::int32: store_as<std::int32_t>(dst, value); break;
    case ElementType::int64: store_as<std::int64_t>(dst, value); break;
    case ElementType::uint8: store_as<std::uint8_t>(dst, value); break;
    case ElementType::uint16: store_as<std::uint16_t>(dst, value); break;
    case ElementType::uint32: store_as<std::uint32_t>(dst, value); break;
    case ElementType::uint64: store_as<std::uint64_t>(dst, value); break;
    case ElementType::float32: store_as<float>(dst, value); break;
    case ElementType::float64: store_as<double>(dst, value); break;
    case ElementType::string: fail<Error>("field '{}' holds strings", name);
  }
}

void Example::set(std::string_view name, std::string value) {
  const std::size_t i = schema_->index(name);
  if (schema_->fields[i].type != ElementType::string) fail<Error>("field '{}' does not hold strings", name);
  text_[i] = std::move(value);
}

}  // namespace sbench::store
