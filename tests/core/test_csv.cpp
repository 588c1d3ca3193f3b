#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sbench/core/csv.hpp"
#include "sbench/core/error.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

std::vector<std::vector<std::string>> read_all(const std::string& text) {
  std::istringstream in(text);
  CsvReader reader(in, "mem.csv");
  std::vector<std::vector<std::string>> rows = {reader.header()};
  CsvRow row;
  while (reader.next(row)) rows.push_back(row.fields());
  return rows;
}

std::string error_of(const std::string& text) {
  try {
    read_all(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, QuotedFieldsHoldDelimitersQuotesAndNewlines) {
  EXPECT_EQ(read_all("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n"),
            (Rows{{"a", "b", "c"}, {"x,y", "say \"hi\"", "two\nlines"}}));
}

TEST(Csv, LineEndingsBomBlankLinesAndEmptyFields) {
  EXPECT_EQ(read_all("\xEF\xBB\xBFid,v\r\n1,\r\n\r\n2,\"\"\r3,x"),
            (Rows{{"id", "v"}, {"1", ""}, {"2", ""}, {"3", "x"}}));
}

TEST(Csv, LineNumbersCountNewlinesInsideQuotes) {
  std::istringstream in("a,b\n\"1\n2\",x\n3,y\n");
  CsvReader reader(in, "mem.csv");
  CsvRow row;
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(row.line(), 2u);
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(row.line(), 4u);
  EXPECT_FALSE(reader.next(row));
}

TEST(Csv, ErrorsNameFileLineAndColumn) {
  EXPECT_NE(error_of("a,b\n1,2,3\n").find("mem.csv: line 2: expected 2 fields as in the header, found 3"),
            std::string::npos);
  EXPECT_NE(error_of("a,b\n\"open,2\n").find("mem.csv: line 2: quoted field is not closed"), std::string::npos);
  EXPECT_NE(error_of("a,b\n\"x\"y,2\n").find("unexpected character 'y' after a closing quote"), std::string::npos);
  EXPECT_NE(error_of("").find("mem.csv: empty file"), std::string::npos);
}

TEST(Csv, MissingColumnNamesTheColumnAndTheColumnsPresent) {
  std::istringstream in("DHSID_EA,lat,lon\n");
  CsvReader reader(in, "dhs_final_labels.csv");
  EXPECT_EQ(reader.column("lon"), 2u);
  EXPECT_FALSE(reader.find_column("asset_index").has_value());
  try {
    reader.column("asset_index");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "dhs_final_labels.csv: missing column 'asset_index' (columns: DHSID_EA, lat, lon)");
  }
}

TEST(Csv, NumbersAndMissingValues) {
  std::istringstream in("a,b,c\n 1.5 ,NA,-7\n");
  CsvReader reader(in, "mem.csv");
  CsvRow row;
  ASSERT_TRUE(reader.next(row));
  EXPECT_EQ(reader.get_double(row, 0), 1.5);
  EXPECT_TRUE(std::isnan(reader.get_double_or_nan(row, 1)));
  EXPECT_EQ(reader.get_int(row, 2), -7);
  try {
    reader.get_double(row, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "mem.csv: line 2: column 'b': expected a number, found 'NA'");
  }
  EXPECT_THROW(reader.get_int(row, 0), InputError);
}

TEST(Csv, MissingFileIsAnIoError) {
  EXPECT_THROW(CsvReader("/nonexistent/labels.csv"), IoError);
}

TEST(Csv, WriterQuotesOnlyWhatNeedsIt) {
  std::ostringstream out;
  CsvWriter w(out);
  w.write_row({"plain", "a,b", "say \"x\"", "line\nbreak", " pad", ""});
  EXPECT_EQ(out.str(), "plain,\"a,b\",\"say \"\"x\"\"\",\"line\nbreak\",\" pad\",\n");
  EXPECT_EQ(format_double(0.1), "0.1");
  EXPECT_EQ(format_double(1e-300), "1e-300");
  EXPECT_EQ(format_double(NAN), "nan");
  EXPECT_EQ(format_double(-INFINITY), "-inf");
}

TEST(Csv, PythonCsvModuleAgreesBothWays) {
  test::TempDir dir;
  // Python writes, we read.
  const auto written = test::run_python("csv_crosscheck.py", {"write", (dir / "py.csv").string()});
  const auto expected = nlohmann::json::parse(written.out).get<Rows>();
  CsvReader reader((dir / "py.csv").string());
  Rows ours = {reader.header()};
  CsvRow row;
  while (reader.next(row)) ours.push_back(row.fields());
  EXPECT_EQ(ours, expected);
  // We write, Python reads.
  {
    std::ofstream out(dir / "ours.csv", std::ios::binary);
    CsvWriter w(out);
    for (const auto& r : expected) w.write_row(r);
  }
  test::run_python("csv_crosscheck.py", {"read", (dir / "ours.csv").string(), (dir / "back.json").string()});
  EXPECT_EQ(nlohmann::json::parse(test::read_file(dir / "back.json")).get<Rows>(), expected);
}

}  // namespace
}  // namespace sbench
