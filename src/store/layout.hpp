// How fields become HDF5 datasets in the two layouts (docs/store.md); private to the store.
#pragma once

#include <filesystem>

#include "h5.hpp"
#include "sbench/core/progress.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store::layout {

// /inputs, /targets, /meta and /provenance, tracking creation order so fields keep their order.
void create_groups(hid_t file);

// An extendible chunked dataset for a field: (0, shape...) growing along the example axis, one
// example per chunk (4096 values per chunk for scalars); deflate_level > 0 compresses.
h5::Handle create_extendible(hid_t file, const Field& field, int deflate_level);

// Writes example `row` (growing the dataset to row + 1 examples). For strings, data points at a
// const char*.
void append_row(hid_t dataset, const Field& field, std::size_t row, const void* data, hid_t memtype);
// Writes example `row` of a one-example-per-chunk field as an already deflated chunk.
void append_chunk(hid_t dataset, const Field& field, std::size_t row, const std::vector<std::byte>& chunk);
// Reads `count` examples from `row` of a fixed-size field; false when HDF5 fails.
bool read_rows(hid_t dataset, const Field& field, std::size_t row, std::size_t count, void* dst);
// Sets the number of examples of an extendible dataset.
void set_rows(hid_t dataset, std::size_t rows);

void write_source_files(hid_t file, const std::vector<SourceFile>& files);

// Copies a whole store into a new file with the given layout: train = contiguous, uncompressed;
// archive = one example per chunk, deflate_level compression.
void copy_store(const std::filesystem::path& from, const std::filesystem::path& to, Layout layout, int deflate_level,
                const ProgressFn& progress);

}  // namespace sbench::store::layout
