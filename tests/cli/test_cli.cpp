// The sbench executable run as a process, as a user runs it.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"

namespace sbench {
namespace {

using test::run_sbench;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TEST(Cli, TasksListsFifteenTasks) {
  const auto r = run_sbench({"tasks"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 17u) << r.out;  // header, 15 tasks, footer
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  EXPECT_EQ(lines[1].rfind("poverty ", 0), 0u);
  EXPECT_NE(lines[1].find("1A"), std::string::npos);
  EXPECT_NE(lines[1].find("x 8x255x255"), std::string::npos);
  EXPECT_NE(lines[1].find("asset_index"), std::string::npos);
  EXPECT_NE(lines[1].find(" r2 "), std::string::npos);
  EXPECT_NE(lines[1].find("0.63"), std::string::npos);
  EXPECT_EQ(lines[15].rfind("land_cover_ood", 0), 0u);
  EXPECT_NE(lines[16].find("15 tasks"), std::string::npos);
}

TEST(Cli, ShowByIdAndBySdgCodeAreIdentical) {
  const auto by_code = run_sbench({"tasks", "show", "1A"});
  const auto by_id = run_sbench({"tasks", "show", "poverty"});
  const auto lower = run_sbench({"tasks", "show", "1a"});
  ASSERT_EQ(by_code.exit_code, 0) << by_code.err;
  EXPECT_EQ(by_code.out, by_id.out);
  EXPECT_EQ(by_code.out, lower.out);
  const auto card = nlohmann::json::parse(by_code.out);
  EXPECT_EQ(card["id"], "poverty");
  EXPECT_EQ(card["inputs"][0]["bands"][7], "NIGHTLIGHTS");
}

TEST(Cli, UnknownTaskIsAUsageErrorNamingTheValidIds) {
  const auto r = run_sbench({"tasks", "show", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("unknown task 'nope'"), std::string::npos) << r.err;
  for (const char* id : {"poverty (1A)", "crop_type_kenya (2B2)", "land_cover_ood (15B)"}) {
    EXPECT_NE(r.err.find(id), std::string::npos) << r.err;
  }
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_sbench({"--no-such-option"}).exit_code, 2);
  EXPECT_EQ(run_sbench({"tasks", "--bogus"}).exit_code, 2);
  EXPECT_EQ(run_sbench({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run_sbench({}).exit_code, 2);
  EXPECT_EQ(run_sbench({"tasks", "show"}).exit_code, 2);
  EXPECT_EQ(run_sbench({"doctor", "--threads", "0"}).exit_code, 2);
}

TEST(Cli, HelpAndVersion) {
  const auto help = run_sbench({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("tasks"), std::string::npos);
  EXPECT_NE(help.out.find("doctor"), std::string::npos);
  const auto version = run_sbench({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("sbench 0.", 0), 0u) << version.out;
}

TEST(Cli, DoctorReportsEveryDependencyAndSetsTorchThreadsToTheCores) {
  const auto nproc = test::run_process({"nproc"});
  ASSERT_EQ(nproc.exit_code, 0);
  const int cores = std::stoi(nproc.out);
  const auto r = run_sbench({"doctor"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* dep :
       {"fmt", "spdlog", "nlohmann-json", "CLI11", "libzip", "zlib", "oneTBB", "HDF5", "GDAL", "PROJ", "LibTorch"}) {
    EXPECT_NE(r.out.find(std::string("\n") + dep + " "), std::string::npos) << dep << "\n" << r.out;
  }
  EXPECT_NE(r.out.find("task registry: 15 tasks"), std::string::npos) << r.out;

  const auto j = nlohmann::json::parse(run_sbench({"doctor", "--json"}).out);
  EXPECT_EQ(j["cores"], cores);
  std::map<std::string, nlohmann::json> deps;
  for (const auto& d : j["dependencies"]) deps[d["name"]] = d;
  EXPECT_EQ(deps["HDF5"]["runtime"].get<std::string>().substr(0, 5), "1.10.");
  EXPECT_EQ(deps["oneTBB"]["compiled"].get<std::string>().substr(0, 5), "2021.");
  if (SBENCH_HAS_GDAL) {
    EXPECT_EQ(deps["GDAL"]["runtime"].get<std::string>().substr(0, 4), "3.6.");
    EXPECT_EQ(deps["PROJ"]["runtime"].get<std::string>().substr(0, 4), "9.1.");
  } else {
    EXPECT_NE(deps["GDAL"]["notes"].get<std::string>().find("not built"), std::string::npos);
  }
  if (SBENCH_HAS_TORCH) {
    EXPECT_NE(r.out.find("CUDA"), std::string::npos);
    EXPECT_EQ(j["torch_threads"], cores);
    EXPECT_EQ(deps["LibTorch"]["compiled"].get<std::string>().substr(0, 5), "1.13.");
    EXPECT_NE(r.out.find(fmt::format("LibTorch threads: {} (set to {})", cores, cores)), std::string::npos) << r.out;
    const auto one = nlohmann::json::parse(run_sbench({"doctor", "--json", "--threads", "1"}).out);
    EXPECT_EQ(one["torch_threads"], 1);
  } else {
    EXPECT_NE(deps["LibTorch"]["notes"].get<std::string>().find("not built"), std::string::npos);
  }
}

TEST(Cli, DatasetsFolderReplacesTheBuiltInCardsAndBadCardsAreReported) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "tasks");
  std::filesystem::create_directories(dir / "bases");
  const std::filesystem::path src = SBENCH_SOURCE_DIR;
  std::filesystem::copy_file(src / "datasets/tasks/crop_yield.json", dir / "tasks/crop_yield.json");
  const auto one = run_sbench({"--datasets", dir.path().string(), "tasks"});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(lines_of(one.out).size(), 3u) << one.out;
  const auto env = run_sbench({"tasks"}, {{"SBENCH_DATASETS", dir.path().string()}});
  EXPECT_EQ(env.out, one.out);

  test::write_file(dir / "tasks/crop_yield.json",
                   test::read_file(src / "datasets/tasks/crop_yield.json").replace(0, 1, "{\"bogus\": 1,"));
  const auto bad = run_sbench({"--datasets", dir.path().string(), "tasks"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("crop_yield.json: unknown field 'bogus'"), std::string::npos) << bad.err;
  const auto doctor = run_sbench({"--datasets", dir.path().string(), "doctor"});
  EXPECT_EQ(doctor.exit_code, 1);
  EXPECT_NE(doctor.out.find("task registry: BROKEN"), std::string::npos) << doctor.out;
}

}  // namespace
}  // namespace sbench
