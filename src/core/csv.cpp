#include "sbench/core/csv.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "sbench/core/error.hpp"

namespace sbench {

CsvReader::CsvReader(const std::string& path, CsvOptions options)
    : file_(std::make_unique<std::ifstream>(path, std::ios::binary)), in_(file_.get()), name_(path), options_(options) {
  if (!*file_) fail<IoError>("{}: cannot open CSV file", path);
  std::size_t start = 0;
  if (!read_record(header_, start)) fail<InputError>("{}: empty file, expected a header line", name_);
}

CsvReader::CsvReader(std::istream& in, std::string name, CsvOptions options)
    : in_(&in), name_(std::move(name)), options_(options) {
  std::size_t start = 0;
  if (!read_record(header_, start)) fail<InputError>("{}: empty file, expected a header line", name_);
}

std::optional<std::size_t> CsvReader::find_column(std::string_view name) const {
  for (std::size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return i;
  }
  return std::nullopt;
}

std::size_t CsvReader::column(std::string_view name) const {
  if (auto i = find_column(name)) return *i;
  fail<InputError>("{}: missing column '{}' (columns: {})", name_, name, fmt::join(header_, ", "));
}

bool CsvReader::next(CsvRow& row) {
  if (!read_record(row.fields_, row.line_)) return false;
  if (row.fields_.size() != header_.size()) {
    fail<InputError>("{}: line {}: expected {} fields as in the header, found {}", name_, row.line_, header_.size(),
                     row.fields_.size());
  }
  return true;
}

// One record: a state machine over characters. Blank lines between records are skipped.
bool CsvReader::read_record(std::vector<std::string>& fields, std::size_t& start_line) {
  fields.clear();
  std::streambuf* buf = in_->rdbuf();
  constexpr int eof = std::char_traits<char>::eof();
  const char delim = options_.delimiter;

  if (line_ == 1 && buf->sgetc() == 0xEF) {
    // UTF-8 byte order mark, written by Excel and some R exports.
    char bom[3];
    if (buf->sgetn(bom, 3) != 3 || static_cast<unsigned char>(bom[1]) != 0xBB ||
        static_cast<unsigned char>(bom[2]) != 0xBF) {
      fail<FormatError>("{}: line 1: starts with a broken UTF-8 byte order mark", name_);
    }
  }
  // Skip blank lines.
  for (;;) {
    int c = buf->sgetc();
    if (c == eof) return false;
    if (c == '\n') {
      buf->sbumpc();
      ++line_;
    } else if (c == '\r') {
      buf->sbumpc();
      if (buf->sgetc() == '\n') buf->sbumpc();
      ++line_;
    } else {
      break;
    }
  }
  start_line = line_;
  std::string field;
  for (;;) {
    int c = buf->sbumpc();
    if (c == '"' && field.empty()) {
      // Quoted field: runs to the next quote that is not doubled.
      for (;;) {
        c = buf->sbumpc();
        if (c == eof)
          fail<FormatError>("{}: line {}: quoted field is not closed before the end of the file", name_, start_line);
        if (c == '"') {
          if (buf->sgetc() == '"') {
            buf->sbumpc();
            field.push_back('"');
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        if (c == '\r' && buf->sgetc() != '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      c = buf->sbumpc();
      if (c != delim && c != '\n' && c != '\r' && c != eof) {
        fail<FormatError>("{}: line {}: unexpected character '{}' after a closing quote (expected '{}' or end of line)",
                          name_, line_, static_cast<char>(c), delim);
      }
      // Mark the field as quoted-and-complete: an empty quoted field must still count.
      fields.push_back(std::move(field));
      field.clear();
      if (c == delim) continue;
    } else if (c == delim) {
      fields.push_back(std::move(field));
      field.clear();
      continue;
    } else if (c != '\n' && c != '\r' && c != eof) {
      field.push_back(static_cast<char>(c));
      continue;
    } else {
      fields.push_back(std::move(field));
      field.clear();
    }
    // End of record.
    if (c == '\r' && buf->sgetc() == '\n') buf->sbumpc();
    if (c != eof) ++line_;
    return true;
  }
}

namespace {

bool is_missing(std::string_view s) {
  return s.empty() || s == "NA" || s == "NaN" || s == "nan" || s == "N/A";
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

double CsvReader::get_double(const CsvRow& row, std::size_t column) const {
  const std::string_view text = trim(row[column]);
  double value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    fail<InputError>("{}: line {}: column '{}': expected a number, found '{}'", name_, row.line(), header_[column],
                     row[column]);
  }
  return value;
}

double CsvReader::get_double_or_nan(const CsvRow& row, std::size_t column) const {
  if (is_missing(trim(row[column]))) return std::numeric_limits<double>::quiet_NaN();
  return get_double(row, column);
}

std::int64_t CsvReader::get_int(const CsvRow& row, std::size_t column) const {
  const std::string_view text = trim(row[column]);
  std::int64_t value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && *begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    fail<InputError>("{}: line {}: column '{}': expected an integer, found '{}'", name_, row.line(), header_[column],
                     row[column]);
  }
  return value;
}

std::string csv_quote(std::string_view field, char delimiter) {
  const bool needs = field.find_first_of(std::string{delimiter, '"', '\r', '\n'}) != std::string_view::npos ||
                     (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!needs) return std::string(field);
  std::string out;
  out.reserve(field.size() + 2);
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

CsvWriter::CsvWriter(std::ostream& out, CsvOptions options) : out_(out), options_(options) {}

void CsvWriter::write_row(const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out_.put(options_.delimiter);
    out_ << csv_quote(fields[i], options_.delimiter);
  }
  out_.put('\n');
}

std::string format_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{}", value);
}

}  // namespace sbench
