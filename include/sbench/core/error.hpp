// The one error family of sbench. Errors are thrown where the problem is found, with a
// message that names the file, the example id and what was expected, and caught once in
// main, which maps them to an exit code.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace sbench {

// Process exit codes (DESIGN.md): 0 ok, 1 failure, 2 usage error.
enum class ExitCode : int { ok = 0, failure = 1, usage = 2 };

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  virtual ExitCode exit_code() const noexcept { return ExitCode::failure; }
};

// The command line was wrong: unknown task id, bad option value, missing argument.
class UsageError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const noexcept override { return ExitCode::usage; }
};

// A file could not be opened, read, written or renamed.
class IoError : public Error {
 public:
  using Error::Error;
};

// The content of a user's file is not what was expected (corrupt, wrong shape, wrong column).
class InputError : public Error {
 public:
  using Error::Error;
};

// A file in a format sbench reads (npy, zip, csv, task card) breaks that format's rules or uses
// a feature sbench does not support.
class FormatError : public InputError {
 public:
  using InputError::InputError;
};

// Throws E with a message formatted by fmt. The single funnel keeps every throw site short.
template <typename E, typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw E(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace sbench
