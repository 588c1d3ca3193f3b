// HDF5 set-up shared by everything that opens a store.
#pragma once

#include <string>

#include "sbench/core/sysinfo.hpp"

namespace sbench::store {

// Stops HDF5 from printing its error stack to stderr: sbench turns failures into errors that
// name the file and the dataset, with hdf5_error_stack() as detail. Safe to call repeatedly.
void init_hdf5();

// The innermost messages of the current thread's HDF5 error stack, joined with "; ", or "" when
// the stack is empty.
std::string hdf5_error_stack();

// HDF5 version (headers and library) and whether the library is thread-safe.
DependencyInfo hdf5_info();

}  // namespace sbench::store
