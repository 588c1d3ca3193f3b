// CSV in the dialect of Python's csv module and R's write.csv: fields separated by a
// delimiter, optionally quoted with '"', quotes doubled inside quoted fields, quoted fields
// may hold delimiters and newlines; LF, CRLF or CR line ends; an optional UTF-8 BOM.
#pragma once

#include <cstdint>
#include <fstream>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sbench {

struct CsvOptions {
  char delimiter = ',';
};

// One record. line() is the 1-based line where the record starts, for error messages.
class CsvRow {
 public:
  std::size_t size() const { return fields_.size(); }
  const std::string& operator[](std::size_t i) const { return fields_[i]; }
  std::size_t line() const { return line_; }
  const std::vector<std::string>& fields() const { return fields_; }

 private:
  friend class CsvReader;
  std::vector<std::string> fields_;
  std::size_t line_ = 0;
};

// Streams records from a file with a header line. Every error names the file and line.
class CsvReader {
 public:
  explicit CsvReader(const std::string& path, CsvOptions options = {});
  // Reads from a stream; name is used in messages in place of a file path.
  CsvReader(std::istream& in, std::string name, CsvOptions options = {});

  const std::vector<std::string>& header() const { return header_; }
  const std::string& name() const { return name_; }

  // Index of a header column; throws InputError naming the file, the column and the columns
  // that exist.
  std::size_t column(std::string_view name) const;
  std::optional<std::size_t> find_column(std::string_view name) const;

  // Reads the next record into row; false at the end. A record whose field count differs
  // from the header's is an InputError.
  bool next(CsvRow& row);

  // Typed access with messages that name the file, line and column.
  double get_double(const CsvRow& row, std::size_t column) const;
  // As get_double, but "", "NA", "NaN", "nan" and "N/A" give NaN (R and pandas missing values).
  double get_double_or_nan(const CsvRow& row, std::size_t column) const;
  std::int64_t get_int(const CsvRow& row, std::size_t column) const;

 private:
  bool read_record(std::vector<std::string>& fields, std::size_t& start_line);

  std::unique_ptr<std::ifstream> file_;
  std::istream* in_;
  std::string name_;
  CsvOptions options_;
  std::vector<std::string> header_;
  std::size_t line_ = 1;
};

// Writes records, quoting only fields that need it (delimiter, quote, CR or LF inside,
// or leading/trailing space).
class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out, CsvOptions options = {});
  void write_row(const std::vector<std::string>& fields);

 private:
  std::ostream& out_;
  CsvOptions options_;
};

std::string csv_quote(std::string_view field, char delimiter = ',');

// Shortest decimal text that reads back to the same double ("nan", "inf", "-inf" for the
// non-finite values, as numpy and pandas write them).
std::string format_double(double value);

}  // namespace sbench
