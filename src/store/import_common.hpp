// Shared machinery of the importers: schemas from task cards, the outcome counts, and the
// parallel pipeline (ordered list of items -> parallel decoding -> ordered appends).
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "sbench/store/import.hpp"
#include "sbench/store/pipeline.hpp"
#include "sbench/store/store.hpp"

namespace sbench::store::detail {

// The writer options of an import: layout, resume, provenance.
WriterOptions writer_options(const ImportOptions& options);

// Ends an import: an import that wrote nothing is an error and leaves nothing behind; otherwise
// the report, the card's normalization and any extra attributes go into the store, which is
// finished (renamed into place).
ImportReport finish_import(StoreWriter& writer, const Tally& tally, const TaskCard& task, const ImportOptions& options,
                           const std::map<std::string, std::string>& attributes = {});

}  // namespace sbench::store::detail
