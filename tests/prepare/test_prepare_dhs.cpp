// sbench synth -> sbench prepare for the DHS tasks, checked against an independent tile builder
// (GDAL's warper and numpy, tests/python/dhs_prepare_reference.py), against `sbench tile` for the
// same points, and for shards, merges, kills and resumes, and bad input.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <sstream>
#include <thread>

#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

namespace fs = std::filesystem;

std::string prepare_line(const std::string& synth_out) {
  const auto at = synth_out.find("sbench prepare ");
  if (at == std::string::npos) return "";
  return synth_out.substr(at, synth_out.find('\n', at) - at);
}

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string s; in >> s;) w.push_back(s);
  return w;
}

// `sbench synth TASK --out DIR/raw --n N --seed S`, then the prepare command it printed (quiet);
// returns those prepare arguments, which leave DIR/raw.h5.
std::vector<std::string> synth_and_prepare(const fs::path& dir, const std::string& task, int n, int seed) {
  const auto synth = test::run_sbench(
      {"-q", "synth", task, "--out", (dir / "raw").string(), "--n", std::to_string(n), "--seed", std::to_string(seed)});
  EXPECT_EQ(synth.exit_code, 0) << synth.err;
  const auto command = words(prepare_line(synth.out));
  EXPECT_GE(command.size(), 8u) << synth.out;
  if (command.size() < 8) return {};
  EXPECT_EQ(command.back(), (dir / "raw").string() + ".h5") << synth.out;
  std::vector<std::string> args = {"-q"};
  args.insert(args.end(), command.begin() + 1, command.end());
  const auto prep = test::run_sbench(args);
  EXPECT_EQ(prep.exit_code, 0) << prep.err;
  return args;
}

// One synthetic input set (48 clusters in six surveys plus three rows the pipeline drops) and the
// store its printed prepare command makes, shared by the tests. ctest runs every test in a process
// of its own, so the set is made once per build of sbench, under a lock, in
// build/test-cache/dhs-prepare-<sbench's time and size>/ (older ones removed), and only read;
// each test writes into its own temporary folder.
class DhsPrepare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const fs::path exe = test::sbench_exe();
    const fs::path cache_root = exe.parent_path() / "test-cache";
    fs::create_directories(cache_root);
    const std::string key =
        fmt::format("dhs-prepare-{}-{}", fs::last_write_time(exe).time_since_epoch().count(), fs::file_size(exe));
    cache_ = cache_root / key;
    const int lock = ::open((cache_root / "dhs-prepare.lock").c_str(), O_CREAT | O_RDWR, 0644);
    ASSERT_GE(lock, 0);
    ASSERT_EQ(::flock(lock, LOCK_EX), 0);
    if (!fs::exists(cache_ / "done")) {
      for (const auto& e : fs::directory_iterator(cache_root)) {
        if (e.is_directory() && e.path().filename().string().rfind("dhs-prepare-", 0) == 0) fs::remove_all(e.path());
      }
      fs::create_directories(cache_);
      const auto synth =
          test::run_sbench({"-q", "synth", "poverty", "--out", root().string(), "--n", "48", "--seed", "7"});
      EXPECT_EQ(synth.exit_code, 0) << synth.err;
      std::vector<std::string> args = words(prepare_line(synth.out));
      if (args.size() >= 8) {
        args[0] = "-q";
        const auto prep = test::run_sbench(args);
        EXPECT_EQ(prep.exit_code, 0) << prep.err;
        test::write_file(cache_ / "command.txt", prepare_line(synth.out));
        test::write_file(cache_ / "report.txt", prep.out);
        if (prep.exit_code == 0) test::write_file(cache_ / "done", "");
      }
    }
    ::flock(lock, LOCK_UN);
    ::close(lock);
    ASSERT_TRUE(fs::exists(cache_ / "done")) << "the shared synthetic set could not be made";
    // The exact command synth printed made the reference store.
    command_ = words(test::read_file(cache_ / "command.txt"));
    ASSERT_GE(command_.size(), 8u);
    ASSERT_EQ(command_[0], "sbench");
    ASSERT_EQ(command_.back(), root().string() + ".h5");
    report_ = test::read_file(cache_ / "report.txt");
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static fs::path root() { return cache_ / "syn"; }
  static fs::path store() { return cache_ / "syn.h5"; }
  // The prepare arguments with another --out (and extra options).
  static std::vector<std::string> prepare_args(const fs::path& out, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"-q"};
    for (std::size_t i = 1; i + 1 < command_.size(); ++i) a.push_back(command_[i]);
    a.push_back(out.string());
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  static test::TempDir* dir_;
  static fs::path cache_;
  static std::vector<std::string> command_;
  static std::string report_;
};
test::TempDir* DhsPrepare::dir_ = nullptr;
fs::path DhsPrepare::cache_;
std::vector<std::string> DhsPrepare::command_;
std::string DhsPrepare::report_;

TEST_F(DhsPrepare, StoreHasTheReleaseLayoutSplitsSensorsAndDroppedRows) {
  store::StoreReader r(store());
  EXPECT_EQ(r.schema().task, "poverty");
  EXPECT_EQ(r.size(), 48u);
  const auto& x = r.schema().field("x");
  EXPECT_EQ(x.shape, (std::vector<std::int64_t>{8, 255, 255}));
  EXPECT_EQ(x.bands,
            (std::vector<std::string>{"BLUE", "GREEN", "RED", "SWIR1", "SWIR2", "TEMP1", "NIR", "NIGHTLIGHTS"}));
  // Eight clusters per survey; splits by the DHS country code (train KE NG, val TZ BJ, test ET RW).
  const std::map<std::string, std::string> split_of = {{"KE", "train"}, {"NG", "train"}, {"TZ", "val"},
                                                       {"BJ", "val"},   {"ET", "test"},  {"RW", "test"}};
  const auto years = r.read_numbers("year");
  const auto sensors = r.read_strings("nl_sensor");
  std::map<std::string, int> per_country;
  for (std::size_t i = 0; i < r.size(); ++i) {
    const std::string cc = r.ids()[i].substr(0, 2);
    ++per_country[cc];
    EXPECT_EQ(store::split_names()[r.splits()[i]], split_of.at(cc)) << r.ids()[i];
    EXPECT_EQ(sensors[i], years[i] <= 2011 ? "dmsp" : "viirs") << r.ids()[i];
  }
  for (const auto& [cc, n] : per_country) EXPECT_EQ(n, 8) << cc;
  EXPECT_EQ(r.split_counts().at("train"), 16u);
  // The three planted rows are reported by status and id, and not in the store.
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  EXPECT_EQ(report["counts"]["processed"], 48);
  EXPECT_EQ(report["counts"]["no_location"], 1);
  EXPECT_EQ(report["counts"]["no_record"], 1);
  EXPECT_EQ(report["counts"]["missing_labels"], 1);
  EXPECT_EQ(report["samples"]["no_location"][0], "KE-2009-5#-00000009");
  EXPECT_EQ(report["samples"]["no_record"][0], "NG-2015-7#-00000009");
  EXPECT_EQ(report["samples"]["missing_labels"][0], "TZ-2010-6#-00000009");
  for (const char* id : {"KE-2009-5#-00000009", "NG-2015-7#-00000009", "TZ-2010-6#-00000009"}) {
    EXPECT_FALSE(r.find(id).has_value()) << id;
  }
  EXPECT_NE(report_.find("no_record"), std::string::npos) << report_;
}

TEST_F(DhsPrepare, PlantedRelationMakesTheNightLightsPredictive) {
  // The KNN baseline's feature, the tile's mean night light, against asset_index, per sensor (the
  // scales differ): the synthetic data carries the documented relation through prepare.
  store::StoreReader r(store());
  const auto asset = r.read_numbers("asset_index");
  const auto sensor = r.read_strings("nl_sensor");
  std::vector<float> x(8 * 255 * 255);
  for (const char* s : {"dmsp", "viirs"}) {
    std::vector<double> a, b;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (sensor[i] != s) continue;
      r.read("x", i, 1, x.data());
      double sum = 0;
      for (std::size_t p = 7 * 255 * 255; p < x.size(); ++p) sum += x[p];
      a.push_back(sum / (255 * 255));
      b.push_back(asset[i]);
    }
    ASSERT_EQ(a.size(), 24u);
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / a.size();
    const double mb = std::accumulate(b.begin(), b.end(), 0.0) / b.size();
    double sab = 0, saa = 0, sbb = 0;
    for (std::size_t k = 0; k < a.size(); ++k) {
      sab += (a[k] - ma) * (b[k] - mb), saa += (a[k] - ma) * (a[k] - ma), sbb += (b[k] - mb) * (b[k] - mb);
    }
    // Measured 0.73 (DMSP) and 0.66 (VIIRS) on this data; a broken relation gives about 0.
    EXPECT_GT(sab / std::sqrt(saa * sbb), 0.5) << s;
  }
}

TEST_F(DhsPrepare, TilesEqualAnIndependentGdalAndNumpyBuild) {
  // Every pixel of every band, for a cluster of each survey: DMSP years 2009, 2010 and 2011 (three
  // calibrations), VIIRS years 2015 and 2017; medians of 1-3 Landsat scenes of missions 5, 7, 8.
  const auto py =
      test::run_python("dhs_prepare_reference.py",
                       {root().string(), store().string(), "KE-2009-5#-00000001", "NG-2015-7#-00000005",
                        "TZ-2010-6#-00000008", "BJ-2017-7#-00000002", "ET-2011-6#-00000004", "RW-2015-7#-00000006"});
  EXPECT_EQ(std::count(py.out.begin(), py.out.end(), '\n'), 6) << py.out;
  EXPECT_EQ(py.out.find("differing 1"), std::string::npos) << py.out;
}

TEST_F(DhsPrepare, TileCommandCutsTheSameTiles) {
  store::StoreReader r(store());
  const auto lon = r.read_numbers("lon"), lat = r.read_numbers("lat");
  const fs::path catalog = *dir_ / "catalog.json";
  ASSERT_EQ(test::run_sbench({"-q", "catalog", "build", root().string(), "--out", catalog.string()}).exit_code, 0);
  // Every cluster of the 2009 Kenyan (DMSP) and the 2015 Rwandan (VIIRS) survey.
  for (const std::string survey : {"KE-2009", "RW-2015"}) {
    std::string csv = "id,lon,lat\n";
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (r.ids()[i].rfind(survey, 0) != 0) continue;
      rows.push_back(i);
      csv += fmt::format("{},{:.17g},{:.17g}\n", r.ids()[i], lon[i], lat[i]);
    }
    ASSERT_EQ(rows.size(), 8u);
    const fs::path points = *dir_ / (survey + ".csv");
    test::write_file(points, csv);
    const int year = std::stoi(survey.substr(3));
    const std::vector<std::string> common = {"--points", points.string(), "--size",       "255",     "--res",     "30",
                                             "--crs",    "EPSG:3857",     "--resampling", "nearest", "--south-up"};
    auto tile = [&](std::vector<std::string> args, const std::string& name) {
      args.insert(args.begin(), {"-q", "tile"});
      args.insert(args.end(), common.begin(), common.end());
      args.insert(args.end(), {"--out", (*dir_ / name).string()});
      const auto t = test::run_sbench(args);
      EXPECT_EQ(t.exit_code, 0) << t.err;
      return *dir_ / name;
    };
    const std::string start = fmt::format("{}-01-01", year - 1), end = fmt::format("{}-12-31", year + 1);
    const fs::path optical =
        tile({"--catalog", catalog.string(), "--sensor", "landsat5_c1_sr,landsat7_c1_sr,landsat8_c1_sr", "--start",
              start, "--end", end, "--bands", "BLUE,GREEN,RED,SWIR1,SWIR2,TEMP1,NIR"},
             survey + "-optical.h5");
    const fs::path lights =
        year <= 2011
            ? tile({"--scene", (root() / "nightlights" / survey / "F16_20100111-20101209_rad_v4.avg_vis.tif").string(),
                    "--sensor", "dmsp_ols"},
                   survey + "-lights.h5")
            : tile({"--catalog", catalog.string(), "--sensor", "viirs_dnb_monthly", "--start", start, "--end", end},
                   survey + "-lights.h5");
    const auto py =
        test::run_process({test::python(), "-c",
                           "import sys,h5py,numpy as np\n"
                           "s=h5py.File(sys.argv[1],'r'); ids=[i.decode() for i in s['meta/id'][:]]\n"
                           "bad=0\n"
                           "for path,bands in ((sys.argv[2],slice(0,7)),(sys.argv[3],slice(7,8))):\n"
                           "  t=h5py.File(path,'r')\n"
                           "  for j,k in enumerate(t['id'][:]):\n"
                           "    a=np.nan_to_num(t['tiles'][j],nan=0.0); b=s['inputs/x'][ids.index(k.decode())][bands]\n"
                           "    bad+=not np.array_equal(a,b)\n"
                           "    print(k.decode(), t['status'][j].decode(), np.abs(a-b).max())\n"
                           "sys.exit(bad)\n",
                           store().string(), optical.string(), lights.string()});
    EXPECT_EQ(py.exit_code, 0) << py.out << py.err;
    EXPECT_EQ(std::count(py.out.begin(), py.out.end(), '\n'), 16) << py.out;
  }
}

TEST_F(DhsPrepare, SynthIsDeterministicBySeedAndPrintsItsCommand) {
  test::TempDir d;
  for (const char* name : {"a", "b"}) {
    ASSERT_EQ(
        test::run_sbench({"-q", "synth", "water", "--out", (d / name).string(), "--n", "6", "--seed", "3"}).exit_code,
        0);
  }
  const auto c = test::run_sbench({"-q", "synth", "water", "--out", (d / "c").string(), "--n", "6", "--seed", "4"});
  ASSERT_EQ(c.exit_code, 0);
  EXPECT_EQ(prepare_line(c.out),
            fmt::format("sbench prepare water --labels {} --imagery {} {} --out {}",
                        (d / "c" / "dhs_final_labels.csv").string(), (d / "c" / "landsat").string(),
                        (d / "c" / "nightlights").string(), (d / "c.h5").string()));
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(d / "a")) {
    if (!e.is_regular_file()) continue;
    ++files;
    const auto rel = fs::relative(e.path(), d / "a");
    ASSERT_TRUE(fs::exists(d / "b" / rel)) << rel;
    EXPECT_EQ(test::read_file(e.path()), test::read_file(d / "b" / rel)) << rel;
  }
  EXPECT_GT(files, 100u);
  EXPECT_NE(test::read_file(d / "a" / "dhs_final_labels.csv"), test::read_file(d / "c" / "dhs_final_labels.csv"));
  // An existing, non-empty folder is refused; too few clusters for six surveys too.
  EXPECT_EQ(test::run_sbench({"-q", "synth", "water", "--out", (d / "a").string()}).exit_code, 2);
  EXPECT_EQ(test::run_sbench({"-q", "synth", "water", "--out", (d / "e").string(), "--n", "5"}).exit_code, 2);
  EXPECT_FALSE(fs::exists(d / "e"));
}

TEST_F(DhsPrepare, CatalogGivesTheStoreOfTheScannedFolders) {
  const fs::path catalog = *dir_ / "cat.json";
  ASSERT_EQ(test::run_sbench({"-q", "catalog", "build", (root() / "landsat").string(),
                              (root() / "nightlights").string(), "--out", catalog.string()})
                .exit_code,
            0);
  auto args = prepare_args(*dir_ / "from-catalog.h5");
  const auto at = std::find(args.begin(), args.end(), "--imagery") - args.begin();
  args.erase(args.begin() + at, args.begin() + at + 3);
  args.insert(args.end() - 2, {"--catalog", catalog.string()});
  const auto p = test::run_sbench(args);
  ASSERT_EQ(p.exit_code, 0) << p.err;
  // The same datasets and attributes but the source, which names the catalog.
  test::run_python("compare_stores.py", {store().string(), (*dir_ / "from-catalog.h5").string(), "--ignore", "source"});
}

TEST_F(DhsPrepare, ShardsMergeToTheSingleRunsStore) {
  std::vector<std::string> shards;
  for (int k : {2, 0, 1}) {
    const fs::path out = *dir_ / fmt::format("shard{}.h5", k);
    const auto p = test::run_sbench(prepare_args(out, {"--shard", fmt::format("{}/3", k)}));
    ASSERT_EQ(p.exit_code, 0) << p.err;
    shards.push_back(out.string());
  }
  std::vector<std::string> merge = {"-q", "store", "merge"};
  merge.insert(merge.end(), shards.begin(), shards.end());
  merge.insert(merge.end(), {"--out", (*dir_ / "merged.h5").string()});
  const auto m = test::run_sbench(merge);
  ASSERT_EQ(m.exit_code, 0) << m.err;
  test::run_python("compare_stores.py", {store().string(), (*dir_ / "merged.h5").string()});

  // A missing shard, a repeated shard and a store that is no shard are refused, naming the file.
  const auto missing =
      test::run_sbench({"-q", "store", "merge", shards[0], shards[1], "--out", (*dir_ / "m2.h5").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("shard(s) 1 of 3 missing"), std::string::npos) << missing.err;
  const auto twice =
      test::run_sbench({"-q", "store", "merge", shards[0], shards[1], shards[1], "--out", (*dir_ / "m3.h5").string()});
  EXPECT_NE(twice.err.find("are both shard 0/3"), std::string::npos) << twice.err;
  const auto plain =
      test::run_sbench({"-q", "store", "merge", store().string(), shards[1], "--out", (*dir_ / "m4.h5").string()});
  EXPECT_NE(plain.err.find(store().string() + ": not a shard"), std::string::npos) << plain.err;
  for (const char* f : {"m2.h5", "m3.h5", "m4.h5"}) EXPECT_FALSE(fs::exists(*dir_ / f)) << f;
}

TEST_F(DhsPrepare, KilledRunResumesToTheUninterruptedStore) {
  const fs::path out = *dir_ / "killed.h5";
  const fs::path journal = *dir_ / "killed.h5.partial.journal";
  auto args = prepare_args(out, {"--threads", "1"});
  args.insert(args.begin(), test::sbench_exe());
  const int pid = test::start_process(args, (*dir_ / "k.out").string(), (*dir_ / "k.err").string());
  // Kill once the first batch of examples is journaled, while clusters remain.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string j = fs::exists(journal) ? test::read_file(journal) : "";
    if (std::count(j.begin(), j.end(), 'E') >= 32) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  ASSERT_EQ(test::wait_process(pid), 128 + SIGKILL) << "prepare ended before it could be killed";
  EXPECT_FALSE(fs::exists(out)) << "a killed run must not leave a store that looks complete";
  const auto resumed = test::run_sbench(prepare_args(out, {"--resume"}));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_NE(resumed.out.find("32 resumed"), std::string::npos) << resumed.out;
  test::run_python("compare_stores.py", {store().string(), out.string()});
}

TEST_F(DhsPrepare, BadInputIsReportedNeverSilent) {
  test::TempDir d;
  // A label file without a target column: an error naming the file and the column, no store.
  std::string csv = test::read_file(root() / "dhs_final_labels.csv");
  csv.replace(csv.find("women_bmi"), 9, "bmi");
  test::write_file(d / "nocol.csv", csv);
  auto args = prepare_args(d / "nocol.h5");
  args[std::find(args.begin(), args.end(), "--labels") - args.begin() + 1] = (d / "nocol.csv").string();
  const auto nocol = test::run_sbench(args);
  EXPECT_EQ(nocol.exit_code, 1);
  EXPECT_NE(nocol.err.find((d / "nocol.csv").string() + ": missing column 'women_bmi'"), std::string::npos)
      << nocol.err;
  EXPECT_FALSE(fs::exists(d / "nocol.h5"));

  // A copy of the inputs with one Landsat band file cut short (it opens, its pixels do not read),
  // one replaced by garbage, one deleted, a stray file, and the DMSP images gone: the scenes are
  // skipped with a warning naming the file and counted, the DMSP clusters are "missing_bands", the
  // rest prepared.
  fs::copy(root(), d / "syn", fs::copy_options::recursive);
  const fs::path landsat = d / "syn" / "landsat";
  const fs::path cut =
      landsat / "LC08_L1TP_172062_20140310_20190101_01_T1" / "LC08_L1TP_172062_20140310_20190101_01_T1_sr_band4.tif";
  fs::resize_file(cut, 2000);
  const fs::path garbage =
      landsat / "LE07_L1TP_189053_20150618_20190101_01_T1" / "LE07_L1TP_189053_20150618_20190101_01_T1_sr_band3.tif";
  test::write_file(garbage, "not a tiff");
  fs::remove(landsat / "LT05_L1TP_168064_20090310_20190101_01_T1" /
             "LT05_L1TP_168064_20090310_20190101_01_T1_bt_band6.tif");
  test::write_file(landsat / "README.txt", "downloaded from ESPA");
  for (const char* s : {"KE-2009", "TZ-2010", "ET-2011"}) fs::remove_all(d / "syn" / "nightlights" / s);
  const auto p =
      test::run_sbench({"prepare", "poverty", "--labels", (d / "syn" / "dhs_final_labels.csv").string(), "--imagery",
                        landsat.string(), (d / "syn" / "nightlights").string(), "--out", (d / "partial.h5").string()});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_NE(p.err.find("scene skipped: " + cut.string()), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("scene skipped: " + garbage.string()), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("lacks band file(s) TEMP1"), std::string::npos) << p.err;
  EXPECT_NE(p.err.find("README.txt"), std::string::npos) << p.err;
  store::StoreReader r(d / "partial.h5");
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  EXPECT_EQ(report["counts"]["missing_bands"], 24) << report.dump();
  EXPECT_EQ(report["counts"]["processed"], 24) << report.dump();
  EXPECT_EQ(report["counts"]["unreadable_scene"], 2) << report.dump();
  const std::set<std::string> unreadable = report["samples"]["unreadable_scene"];
  EXPECT_EQ(unreadable, (std::set<std::string>{cut.string(), garbage.string()}));
  const auto imagery = nlohmann::json::parse(r.attributes().at("prepare_imagery"));
  EXPECT_EQ(imagery["incomplete_scenes"], 1) << imagery.dump();
  EXPECT_EQ(imagery["unrecognised_files"], 1) << imagery.dump();
  EXPECT_EQ(imagery["dmsp_scenes"], 0) << imagery.dump();
  for (const auto& s : r.read_strings("nl_sensor")) EXPECT_EQ(s, "viirs");

  // No Landsat scene at all: an error, no store.
  const auto none =
      test::run_sbench({"-q", "prepare", "poverty", "--labels", (d / "syn" / "dhs_final_labels.csv").string(),
                        "--imagery", (d / "syn" / "nightlights").string(), "--out", (d / "none.h5").string()});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no Landsat surface reflectance scene"), std::string::npos) << none.err;
  EXPECT_FALSE(fs::exists(d / "none.h5"));
  // A label file of another task (a CSV without polygons for crop_type_kenya) names the file.
  const auto other = test::run_sbench({"-q", "prepare", "crop_type_kenya", "--labels", (d / "nocol.csv").string(),
                                       "--imagery", (d / "syn").string(), "--out", (d / "ck.h5").string()});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("nocol.csv: no polygon"), std::string::npos) << other.err;
  EXPECT_FALSE(fs::exists(d / "ck.h5"));
}

}  // namespace
}  // namespace sbench

namespace sbench {
namespace {

TEST(Demo, RunsEveryStepAndWritesTheReportsReplacingItsOwnFolderOnly) {
  test::TempDir d;
  const auto dir = d / "demo";
  // A folder of an earlier demo (it has the marker) is replaced.
  std::filesystem::create_directories(dir);
  test::write_file(dir / ".sbench-demo", "");
  test::write_file(dir / "old.txt", "from an earlier demo");
  const auto r = test::run_sbench({"demo", "--out", dir.string(), "--n", "24", "--seed", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "old.txt"));
  std::vector<std::string> steps = {"$ sbench synth poverty", "$ sbench prepare poverty", "$ sbench train poverty",
                                    "$ sbench predict",       "$ sbench eval poverty",    "demo done: open"};
#if SBENCH_HAS_TORCH
  for (const char* s : {"$ sbench synth brick_kiln", "$ sbench prepare brick_kiln", "$ sbench train brick_kiln",
                        "$ sbench eval brick_kiln"}) {
    steps.push_back(s);
  }
#endif
  for (const auto& s : steps) EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  const auto metrics = nlohmann::json::parse(test::read_file(dir / "knn" / "metrics.json"));
  EXPECT_EQ(metrics["task"], "poverty");
  EXPECT_EQ(metrics["n"], 8);  // 4 test clusters in each of ET and RW
  const double r2 = metrics["metrics"]["r2"].get<double>();
  EXPECT_TRUE(r2 >= 0 && r2 <= 1) << metrics.dump();
  EXPECT_NE(test::read_file(dir / "report.html").find("vega"), std::string::npos);
#if SBENCH_HAS_TORCH
  const auto resnet = nlohmann::json::parse(test::read_file(dir / "resnet" / "metrics.json"));
  EXPECT_EQ(resnet["task"], "poverty");
  EXPECT_EQ(resnet["n"], 8) << "the same test clusters as the KNN";
  const auto kiln = nlohmann::json::parse(test::read_file(dir / "kiln" / "metrics.json"));
  EXPECT_EQ(kiln["task"], "brick_kiln");
  store::StoreReader kstore(dir / "brick_kiln.h5");
  EXPECT_EQ(kiln["n"], kstore.indices("test").size());
  const double acc = kiln["metrics"]["accuracy"].get<double>();
  EXPECT_TRUE(acc >= 0 && acc <= 1) << kiln.dump();
  for (const char* report : {"resnet/report.html", "kiln/report.html"}) {
    EXPECT_NE(test::read_file(dir / report).find("vega"), std::string::npos) << report;
    EXPECT_NE(r.out.find((std::filesystem::absolute(dir) / report).string()), std::string::npos) << report;
  }
#endif
  // Into another non-empty folder: refused, left alone.
  std::filesystem::create_directories(d / "mine");
  test::write_file(d / "mine" / "notes.txt", "keep");
  const auto refused = test::run_sbench({"-q", "demo", "--out", (d / "mine").string()});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(test::read_file(d / "mine" / "notes.txt"), "keep");
}

}  // namespace
}  // namespace sbench

namespace sbench {
namespace {

TEST(LsmsPrepare, PairsOfTilesEqualTheIndependentBuildAndShardsMerge) {
  test::TempDir d;
  auto args = synth_and_prepare(d.path(), "poverty_change", 12, 5);
  ASSERT_FALSE(args.empty());
  const fs::path store_path = d / "raw.h5";
  store::StoreReader r(store_path);
  EXPECT_EQ(r.schema().task, "poverty_change");
  ASSERT_EQ(r.size(), 12u);
  // Four areas per panel (ng 2010 -> 2015, tz 2008 -> 2012, mw 2010 -> 2016); the pair without
  // coordinates and the one far from the imagery are reported, not stored.
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  EXPECT_EQ(report["counts"]["processed"], 12) << report.dump();
  EXPECT_EQ(report["counts"]["no_location"], 1) << report.dump();
  EXPECT_EQ(report["counts"]["no_record (year.x)"], 1) << report.dump();
  EXPECT_EQ(report["samples"]["no_location"][0], "ng-1019999990-2010-2015");
  const auto before = r.read_numbers("year_before"), after = r.read_numbers("year_after");
  std::set<std::string> pairs;
  for (std::size_t i = 0; i < r.size(); ++i) pairs.insert(fmt::format("{}-{}", before[i], after[i]));
  EXPECT_EQ(pairs, (std::set<std::string>{"2010-2015", "2008-2012", "2010-2016"}));
  // Both tiles of a pair of each panel, every pixel, against GDAL's warper and numpy: DMSP 2010 and
  // VIIRS 2015, DMSP 2008 and VIIRS 2012, DMSP 2010 and VIIRS 2016.
  test::run_python("dhs_prepare_reference.py",
                   {(d / "raw").string(), store_path.string(), "--lsms", r.ids()[0], r.ids()[5], r.ids()[11]});
  // The x_after tile differs from x_before: another window and sensor, and the planted change.
  std::vector<float> a(8 * 255 * 255), b(8 * 255 * 255);
  r.read("x_before", 0, 1, a.data());
  r.read("x_after", 0, 1, b.data());
  EXPECT_NE(a, b);

  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args, d.path(), {1, 0}, store_path));

  // The coordinates file must sit beside the pairs file.
  fs::remove(d / "raw" / "asset_infrstructure_indicies_lsms.csv");
  args.back() = (d / "none.h5").string();
  const auto nocoords = test::run_sbench(args);
  EXPECT_EQ(nocoords.exit_code, 1);
  EXPECT_NE(nocoords.err.find("no asset_infrstructure_indicies_lsms.csv beside"), std::string::npos) << nocoords.err;
}

}  // namespace
}  // namespace sbench

namespace sbench {
namespace {

TEST(CroplandPrepare, TilesMasksAndWeakLabelsEqualTheIndependentBuildAndShardsMerge) {
  test::TempDir d;
  auto args = synth_and_prepare(d.path(), "cropland", 36, 3);
  ASSERT_FALSE(args.empty());
  const fs::path store_path = d / "raw.h5";
  store::StoreReader r(store_path);
  EXPECT_EQ(r.schema().field("x").shape, (std::vector<std::int64_t>{7, 50, 50}));
  EXPECT_EQ(r.schema().field("mask").shape, (std::vector<std::int64_t>{50, 50}));
  // The synth's 6 x 6 tiles lie inside its CDL raster; a tile with a pixel cloudy on every date
  // is reported, not stored.
  const auto report = nlohmann::json::parse(r.attributes().at("prepare_report"));
  const auto imagery = nlohmann::json::parse(r.attributes().at("prepare_imagery"));
  EXPECT_EQ(imagery["tiles_in_cdl"], 36) << imagery.dump();
  EXPECT_EQ(imagery["landsat8_scenes"], 4) << imagery.dump();  // the 2016 scene is not of the year
  std::size_t total = 0;
  for (const auto& [status, n] : report["counts"].items()) {
    EXPECT_TRUE(status == "processed" || status == "missing_pixels") << status;
    total += n.get<std::size_t>();
  }
  EXPECT_EQ(total, 36u);
  EXPECT_EQ(r.size(), report["counts"]["processed"].get<std::size_t>());
  EXPECT_GE(r.size(), 30u);
  // Every tile against GDAL's warper and numpy (median, QA mask, CDL classes), and the weak labels
  // against the mask.
  test::run_python("cropland_reference.py", {(d / "raw").string(), store_path.string(), "2017"});
  // Both classes of the image label occur, and the blocks give more than one split.
  std::set<int> image_labels;
  std::vector<std::int8_t> label(1);
  for (std::size_t i = 0; i < r.size(); ++i) {
    r.read("image_label", i, 1, label.data());
    image_labels.insert(label[0]);
  }
  EXPECT_EQ(image_labels.size(), 2u);
  EXPECT_GE(r.split_counts().size(), 2u);

  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args, d.path(), {0, 1, 2}, store_path));

  // A year without scenes, and a label file that is no raster: errors naming what is wrong.
  auto other_year = args;
  other_year.back() = (d / "2019.h5").string();
  other_year.insert(other_year.end(), {"--year", "2019"});
  const auto none = test::run_sbench(other_year);
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no Landsat 8/9 surface reflectance scene of 2019"), std::string::npos) << none.err;
  test::write_file(d / "cdl.tif", "not a raster");
  auto bad = args;
  bad[std::find(bad.begin(), bad.end(), "--labels") - bad.begin() + 1] = (d / "cdl.tif").string();
  const auto bad_run = test::run_sbench(bad);
  EXPECT_EQ(bad_run.exit_code, 1);
  EXPECT_NE(bad_run.err.find((d / "cdl.tif").string() + ": not a raster GDAL can open"), std::string::npos)
      << bad_run.err;
}

}  // namespace
}  // namespace sbench

namespace sbench {
namespace {

TEST(BrickKilnPrepare, TilesLabelsAndSplitEqualTheIndependentBuildAndBadRegionsAreHandled) {
  test::TempDir d;
  auto args = synth_and_prepare(d.path(), "brick_kiln", 36, 1);
  ASSERT_FALSE(args.empty());
  const fs::path store_path = d / "raw.h5";
  store::StoreReader r(store_path);
  EXPECT_EQ(r.schema().field("x").shape, (std::vector<std::int64_t>{13, 64, 64}));
  const auto imagery = nlohmann::json::parse(r.attributes().at("prepare_imagery"));
  // Six acquisitions: two over 0.2% cloudy, one after the season, three kept.
  EXPECT_EQ(imagery["sentinel2_scenes"], 3) << imagery.dump();
  EXPECT_EQ(imagery["cloudy_scenes"], 2) << imagery.dump();
  EXPECT_EQ(imagery["scenes_outside_window"], 1) << imagery.dump();
  EXPECT_EQ(imagery["kilns_outside_region"], 1) << imagery.dump();
  EXPECT_GT(imagery["neighbours_of_positives_dropped"].get<int>(), 0) << imagery.dump();
  // Every tile against GDAL's warper and numpy, labels from the kiln points, the neighbour rule,
  // the offset copies, the region and the stratified split.
  const auto py = test::run_python("brick_kiln_reference.py", {(d / "raw").string(), store_path.string()});
  EXPECT_NE(py.out.find("0 problems"), std::string::npos) << py.out;
  const auto labels = r.read_numbers("label");
  EXPECT_GT(std::count(labels.begin(), labels.end(), 1.0), 0);
  EXPECT_GT(std::count(labels.begin(), labels.end(), 0.0), 0);

  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(args, d.path(), {0, 1}, store_path));

  // A self-intersecting region (a bow tie) is repaired with a warning naming the file and feature;
  // a region that is not a polygon, and a missing --region, are errors.
  auto region_arg = std::find(args.begin(), args.end(), "--region") - args.begin() + 1;
  const std::string region = test::read_file(args[static_cast<std::size_t>(region_arg)]);
  const auto a = region.find("[["), b = region.find("]]");
  std::vector<std::string> corners;
  for (std::size_t at = region.find('[', a + 2); at < b; at = region.find('[', at + 1)) {
    corners.push_back(region.substr(at, region.find(']', at) - at + 1));
  }
  ASSERT_GE(corners.size(), 6u);
  const std::string bowtie =
      R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": )"
      R"({"type": "Polygon", "coordinates": [[)" +
      corners[0] + ", " + corners[3] + ", " + corners[1] + ", " + corners[4] + ", " + corners[0] + "]]}}]}";
  test::write_file(d / "bowtie.geojson", bowtie);
  auto with_region = [&](const fs::path& file, const std::string& out) {
    auto s = args;
    s[static_cast<std::size_t>(region_arg)] = file.string();
    s.back() = (d / out).string();
    s.erase(s.begin());  // without -q: the warning shows
    return test::run_sbench(s);
  };
  const auto fixed = with_region(d / "bowtie.geojson", "bowtie.h5");
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_NE(fixed.err.find((d / "bowtie.geojson").string() + ": feature 0 is an invalid polygon"), std::string::npos)
      << fixed.err;
  test::write_file(d / "points.geojson",
                   R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, )"
                   R"("geometry": {"type": "Point", "coordinates": [90.4, 23.9]}}]})");
  const auto point = with_region(d / "points.geojson", "points.h5");
  EXPECT_EQ(point.exit_code, 1);
  EXPECT_NE(point.err.find("feature 0 is a POINT, expected polygons"), std::string::npos) << point.err;
  auto no_region = args;
  no_region.erase(no_region.begin() + region_arg - 1, no_region.begin() + region_arg + 1);
  no_region.back() = (d / "none.h5").string();
  const auto none = test::run_sbench(no_region);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("brick_kiln needs --region FILE"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace sbench

namespace sbench {
namespace {

TEST(FieldDelineationPrepare, TilesAndMasksEqualTheIndependentBuildSamplingShardsAndBadParcels) {
  test::TempDir d;
  auto args = synth_and_prepare(d.path(), "field_delineation", 16, 2);
  ASSERT_FALSE(args.empty());
  const fs::path store_path = d / "raw.h5";
  {
    store::StoreReader r(store_path);
    EXPECT_EQ(r.size(), 16u);
    EXPECT_EQ(r.schema().field("x").shape, (std::vector<std::int64_t>{3, 224, 224}));
    EXPECT_EQ(r.schema().field("x").type, store::ElementType::uint8);
  }
  // Every tile's RGB and both masks against gdal.Warp, numpy's bytescale and the parcel rings in numpy.
  test::run_python("field_reference.py", {(d / "raw").string(), store_path.string()});

  // A sample of 6 of the 16 parcels: the same 6 in every run and shard.
  auto sample = args;
  sample[std::find(sample.begin(), sample.end(), "--sample") - sample.begin() + 1] = "6";
  std::vector<std::string> ids[2];
  for (int run = 0; run < 2; ++run) {
    sample.back() = (d / fmt::format("sample{}.h5", run)).string();
    ASSERT_EQ(test::run_sbench(sample).exit_code, 0);
    ids[run] = store::StoreReader(sample.back()).ids();
  }
  EXPECT_EQ(ids[0].size(), 6u);
  EXPECT_EQ(ids[0], ids[1]);
  ASSERT_NO_FATAL_FAILURE(test::shards_merge_and_compare(sample, d.path(), {1, 0}, d / "sample0.h5"));

  // Parcels that are lines are refused, naming the file and feature.
  test::write_file(d / "lines.geojson",
                   R"({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, )"
                   R"("geometry": {"type": "LineString", "coordinates": [[1.6, 48.2], [1.61, 48.21]]}}]})");
  auto lines = args;
  lines[std::find(lines.begin(), lines.end(), "--labels") - lines.begin() + 1] = (d / "lines.geojson").string();
  lines.back() = (d / "lines.h5").string();
  const auto refused = test::run_sbench(lines);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find((d / "lines.geojson").string() + ": feature 0 is a LINESTRING, expected polygons"),
            std::string::npos)
      << refused.err;
  EXPECT_FALSE(fs::exists(d / "lines.h5"));
}

}  // namespace
}  // namespace sbench
