// The DHS importer on a release built at test time in the upstream layout by numpy itself.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <thread>

#include "sbench/core/error.hpp"
#include "sbench/core/npy.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench::store {
namespace {

const TaskRegistry& reg() {
  return TaskRegistry::builtin();
}

ImportReport import_dir(const std::filesystem::path& from, const std::filesystem::path& out,
                        Layout layout = Layout::archive, int threads = 2) {
  ImportOptions opt;
  opt.from = from;
  opt.out = out;
  opt.layout = layout;
  opt.threads = threads;
  return import_release(reg().get("poverty"), reg(), opt);
}

class DhsRelease : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    test::run_python("dhs_release.py", {(dir_->path() / "release").string(), "24"});
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path release() { return dir_->path() / "release"; }
  static test::TempDir* dir_;
};
test::TempDir* DhsRelease::dir_ = nullptr;

TEST_F(DhsRelease, EveryTileLabelSplitAndCountAsTheRelease) {
  test::TempDir out;
  const auto report = import_dir(release(), out / "dhs.h5");
  EXPECT_EQ(report.written, 25u);
  std::map<std::string, std::size_t> counts(report.counts.begin(), report.counts.end());
  EXPECT_EQ(counts, (std::map<std::string, std::size_t>{{"imported", 25},
                                                        {"no_location", 1},
                                                        {"missing_labels", 1},
                                                        {"missing_image", 1},
                                                        {"nan_pixels", 1},
                                                        {"bad_image", 1}}));
  // Checked by h5py against the npz files and the CSV.
  const auto r = test::run_python("check_dhs_store.py", {(out / "dhs.h5").string(), release().string()});
  EXPECT_NE(r.out.find("0 problems"), std::string::npos) << r.out;
  // And through our reader: a tile against the npz read by our npz reader.
  StoreReader store(out / "dhs.h5");
  EXPECT_EQ(store.schema().tasks,
            (std::vector<std::string>{"poverty", "child_mortality", "women_bmi", "women_edu", "water", "sanitation"}));
  const std::string id = "IA-2011-7#-00000001";
  NpzReader npz(release() / "IA-2011-7#" / (id + ".npz"));
  std::vector<float> tile(8 * 255 * 255);
  store.read("x", store.index(id), 1, tile.data());
  EXPECT_EQ(tile, npz.read("x").to_vector<float>());
  EXPECT_EQ(store.split_counts(),
            (std::map<std::string, std::size_t>{{"train", 9}, {"val", 6}, {"test", 9}, {"none", 1}}));
  EXPECT_EQ(store.source_files().size(), 26u);  // the CSV and 25 npz files
}

TEST_F(DhsRelease, TrainLayoutThroughTheCliHoldsTheSameDatasets) {
  test::TempDir out;
  import_dir(release(), out / "a.h5", Layout::archive, 1);
  const auto cli = test::run_sbench(
      {"-q", "import", "1A", "--from", release().string(), "--out", (out / "t.h5").string(), "--layout", "train"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("25 examples (train layout)"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("missing_image"), std::string::npos) << cli.out;
  test::run_python("compare_stores.py", {(out / "a.h5").string(), (out / "t.h5").string(), "--ignore", "layout"});

  const auto inspect = test::run_sbench({"inspect", (out / "t.h5").string(), "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  const auto j = nlohmann::json::parse(inspect.out);
  EXPECT_EQ(j["task"], "poverty");
  EXPECT_EQ(j["layout"], "train");
  EXPECT_EQ(j["examples"], 25);
  EXPECT_EQ(j["splits"]["val"], 6);
  EXPECT_EQ(j["fields"][0]["bands"][7], "NIGHTLIGHTS");
  EXPECT_EQ(j["import_report"]["counts"]["nan_pixels"], 1);
  EXPECT_EQ(j["provenance"]["source_files"], 26);
}

TEST_F(DhsRelease, StatsPerBandAndPerNightLightSensorAgainstNumpy) {
  test::TempDir out;
  import_dir(release(), out / "s.h5");
  const auto run = test::run_sbench({"-q", "store", "stats", (out / "s.h5").string()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto stats = StoreReader(out / "s.h5").stats();
  ASSERT_TRUE(stats.count("dmsp") && stats.count("viirs") && stats.count("all"));
  // numpy over the train clusters' npz files (expected.json knows each cluster's split and year).
  const auto py = test::run_process(
      {test::python(), "-c",
       "import json,sys,numpy as np,os\n"
       "r=sys.argv[1]; e=json.load(open(os.path.join(r,'expected.json')))['clusters']\n"
       "for sel in (lambda c:True, lambda c:c['year']<2012, lambda c:c['year']>=2012):\n"
       "  a=np.stack([np.load(os.path.join(r,k[:10],k+'.npz'))['x'].astype(np.float64) for k,c in sorted(e.items())"
       " if c['split']=='train' and sel(c)])\n"
       "  print(' '.join(repr(v) for v in list(a.mean(axis=(0,2,3)))+list(a.std(axis=(0,2,3)))))\n",
       release().string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  std::istringstream lines(py.out);
  for (const char* group : {"all", "dmsp", "viirs"}) {
    std::vector<double> v(16);
    for (auto& x : v) lines >> x;
    const auto& s = stats.at(group).at("x");
    for (std::size_t b = 0; b < 8; ++b) {
      EXPECT_NEAR(s.mean[b], v[b], 1e-9) << group << " band " << b;
      EXPECT_NEAR(s.std[b], v[8 + b], 1e-9) << group << " band " << b;
    }
  }
}

TEST_F(DhsRelease, KilledImportLeavesNoStoreAndResumesToTheSameDatasets) {
  test::TempDir out;
  // A bigger, quickly compressible release so that the import runs long enough to be killed.
  test::run_python("dhs_release.py", {(out / "big").string(), "400", "--smooth"});
  ASSERT_EQ(test::run_sbench(
                {"-q", "import", "poverty", "--from", (out / "big").string(), "--out", (out / "ref.h5").string()})
                .exit_code,
            0);
  const auto store = out / "killed.h5";
  const auto journal = out / "killed.h5.partial.journal";
  const int pid = test::start_process({test::sbench_exe(), "-q", "import", "poverty", "--from", (out / "big").string(),
                                       "--out", store.string(), "--threads", "1"},
                                      (out / "o.txt").string(), (out / "e.txt").string());
  // Kill once some examples are journaled (flushed), while the import is still running.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string j = std::filesystem::exists(journal) ? test::read_file(journal) : "";
    if (std::count(j.begin(), j.end(), 'E') >= 40) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(test::wait_process(pid), 128 + SIGKILL) << "the import ended before it could be killed";
  EXPECT_FALSE(std::filesystem::exists(store)) << "a killed import must not leave a store that looks complete";
  EXPECT_TRUE(std::filesystem::exists(out / "killed.h5.partial"));
  const auto resumed =
      test::run_sbench({"import", "poverty", "--from", (out / "big").string(), "--out", store.string(), "--resume"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("resumed"), std::string::npos) << resumed.out;
  EXPECT_FALSE(std::filesystem::exists(out / "killed.h5.partial"));
  test::run_python("compare_stores.py", {(out / "ref.h5").string(), store.string()});
}

TEST_F(DhsRelease, BadReleasesAreErrorsNamingTheFile) {
  test::TempDir out;
  auto message = [&](const std::filesystem::path& from) {
    try {
      import_dir(from, out / "bad.h5");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // No label file at all.
  std::filesystem::create_directories(out / "empty");
  EXPECT_NE(message(out / "empty").find("no dhs_final_labels.csv"), std::string::npos);
  // A label column missing, and a duplicated cluster id.
  const std::string csv = test::read_file(release() / "output_labels" / "dhs_final_labels.csv");
  std::filesystem::create_directories(out / "nocol");
  std::string no_col = csv;
  no_col.replace(no_col.find("women_bmi"), 9, "bmi");
  test::write_file(out / "nocol" / "dhs_final_labels.csv", no_col);
  EXPECT_NE(message(out / "nocol").find("dhs_final_labels.csv: missing column 'women_bmi'"), std::string::npos);
  std::filesystem::create_directories(out / "dup");
  const auto second_line = csv.substr(csv.find('\n') + 1, csv.find('\n', csv.find('\n') + 1) - csv.find('\n'));
  test::write_file(out / "dup" / "dhs_final_labels.csv", csv + second_line);
  const std::string dup = message(out / "dup");
  EXPECT_NE(dup.find("duplicate DHSID_EA 'AL-2005-7#-00000000'"), std::string::npos) << dup;
  // Labels without any image: nothing to import, and no store.
  std::filesystem::create_directories(out / "noimg");
  test::write_file(out / "noimg" / "dhs_final_labels.csv", csv);
  EXPECT_NE(message(out / "noimg").find("nothing could be imported for poverty"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out / "bad.h5"));
  // The folder of another task's release.
  const auto other =
      test::run_sbench({"import", "crop_yield", "--from", release().string(), "--out", (out / "y.h5").string()});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("no soybeans/"), std::string::npos) << other.err;
}

}  // namespace
}  // namespace sbench::store
