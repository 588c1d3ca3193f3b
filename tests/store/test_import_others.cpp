// Importers of the other release formats, each on a small release written at test time by the
// upstream tools (numpy, h5py, pickle, PIL) and checked value by value through h5py.
#include <gtest/gtest.h>

#include "sbench/core/error.hpp"
#include "sbench/store/import.hpp"
#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench::store {
namespace {

const TaskRegistry& reg() {
  return TaskRegistry::builtin();
}

ImportReport import_task(const std::string& task, const std::filesystem::path& from, const std::filesystem::path& out) {
  ImportOptions opt;
  opt.from = from;
  opt.out = out;
  opt.threads = 2;
  return import_release(reg().get(task), reg(), opt);
}

std::string error_of(const std::string& task, const std::filesystem::path& from, const std::filesystem::path& out) {
  try {
    import_task(task, from, out);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ImportCropYield, HistogramsYieldsYearsAndSplitsAsTheRelease) {
  test::TempDir dir;
  test::run_python("crop_yield_release.py", {"make", dir.path().string()});
  const auto report = import_task("2C", dir.path(), dir / "yield.h5");
  EXPECT_EQ(report.written, 30u);
  const auto check =
      test::run_python("crop_yield_release.py", {"check", dir.path().string(), (dir / "yield.h5").string()});
  EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
  StoreReader r(dir / "yield.h5");
  EXPECT_EQ(r.split_counts(), (std::map<std::string, std::size_t>{{"train", 18}, {"val", 4}, {"test", 8}}));
  EXPECT_EQ(r.schema().field("hist").shape, (std::vector<std::int64_t>{32, 32, 9}));
}

TEST(ImportCropYield, BadReleasesNameTheFile) {
  test::TempDir dir;
  test::run_python("crop_yield_release.py", {"make", dir.path().string()});
  std::filesystem::remove(dir / "soybeans/usa/dev_years.npz");
  EXPECT_NE(error_of("crop_yield", dir.path(), dir / "y.h5").find("soybeans/usa/dev_years.npz: missing"),
            std::string::npos);
  // An npz whose array is not under 'data'.
  const auto r = test::run_process({test::python(), "-c",
                                    "import numpy as np,sys; np.savez_compressed(sys.argv[1], x=np.array(['2009']))",
                                    (dir / "soybeans/usa/dev_years.npz").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(error_of("crop_yield", dir.path(), dir / "y.h5").find("dev_years.npz: no array 'data' (arrays: x)"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "y.h5"));
  EXPECT_NE(error_of("crop_yield", dir / "soybeans" / "usa", dir / "y.h5").find("no soybeans/"), std::string::npos);
}

}  // namespace
}  // namespace sbench::store

namespace sbench::store {
namespace {

TEST(ImportBrickKiln, BothImageAxisOrdersAreReadAndRecorded) {
  for (bool channels_last : {false, true}) {
    test::TempDir dir;
    std::vector<std::string> args = {"make", dir.path().string()};
    if (channels_last) args.push_back("--channels-last");
    test::run_python("brick_kiln_release.py", args);
    const auto report = import_task("brick_kiln", dir.path(), dir / "kiln.h5");
    EXPECT_EQ(report.written, 12u);
    const auto check =
        test::run_python("brick_kiln_release.py", {"check", dir.path().string(), (dir / "kiln.h5").string()});
    EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
    EXPECT_EQ(StoreReader(dir / "kiln.h5").attributes().at("release_image_axes"), channels_last ? "NHWC" : "NCHW");
  }
}

TEST(ImportBrickKiln, InconsistentReleasesNameTheFileAndLine) {
  test::TempDir dir;
  test::run_python("brick_kiln_release.py", {"make", dir.path().string()});
  const auto csv = dir / "brick_kiln_v1.0" / "list_eval_partition.csv";
  const std::string text = test::read_file(csv);
  // A row pointing past the end of its file.
  std::string past = text;
  past.replace(past.find("examples_2.hdf5,2"), 17, "examples_2.hdf5,9");
  test::write_file(csv, past);
  EXPECT_NE(error_of("13A", dir.path(), dir / "k.h5").find("hdf5_idx 9 is outside examples_2.hdf5 (3 images)"),
            std::string::npos);
  // A missing file.
  std::string missing = text;
  missing.replace(missing.find("examples_2.hdf5,2"), 17, "examples_7.hdf5,2");
  test::write_file(csv, missing);
  EXPECT_NE(error_of("13A", dir.path(), dir / "k.h5").find("examples_7.hdf5 does not exist"), std::string::npos);
  // A truncated HDF5 file.
  test::write_file(csv, text);
  const std::string h5 = test::read_file(dir / "brick_kiln_v1.0" / "examples_1.hdf5");
  test::write_file(dir / "brick_kiln_v1.0" / "examples_1.hdf5", h5.substr(0, 2000));
  EXPECT_NE(error_of("13A", dir.path(), dir / "k.h5").find("examples_1.hdf5: not a readable HDF5 file"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "k.h5"));
}

}  // namespace
}  // namespace sbench::store

namespace sbench::store {
namespace {

TEST(ImportCropTypeAfrica, SeriesDatesTruthAndPlanetResizeAsTheRelease) {
  test::TempDir dir;
  test::run_python("crop_type_release.py", {"make", dir.path().string()});
  const auto report = import_task("crop_type_africa", dir.path(), dir / "ct.h5");
  EXPECT_EQ(report.written, 6u);
  const auto check = test::run_python("crop_type_release.py", {"check", dir.path().string(), (dir / "ct.h5").string()});
  EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
  StoreReader r(dir / "ct.h5");
  EXPECT_EQ(r.schema().field("s2").shape, (std::vector<std::int64_t>{10, 256, 64, 64}));
  EXPECT_EQ(r.schema().field("s2").type, ElementType::int32);
}

TEST(ImportCropTypeAfrica, MissingDatesAndBadTruthNameTheFile) {
  test::TempDir dir;
  test::run_python("crop_type_release.py", {"make", dir.path().string()});
  const auto folder = dir / "africa_crop_type_mapping" / "ghana";
  std::filesystem::remove(folder / "s2" / "s2_ghana_17.json");
  EXPECT_NE(error_of("2B1", dir.path(), dir / "c.h5").find("s2_ghana_000017.json: missing (dates of the s2 series)"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "c.h5"));
}

// A release whose truth holds codes of the legend past the card's 4 classes (Ghana's yam 5,
// intercrop 6, sorghum 7, okra 8) in two tiles: an error naming the file and the option, or with
// --other-classes-unlabelled those pixels as 0 and the tiles counted.
TEST(ImportCropTypeAfrica, LegendCodesPastTheClassesAreAnErrorOrUnlabelled) {
  test::TempDir dir;
  test::run_python("crop_type_release.py", {"make", dir.path().string(), "other"});
  const std::string e = error_of("crop_type_africa", dir.path(), dir / "c.h5");
  EXPECT_NE(e.find("pixel 0 has class 5, expected 0 (unlabelled) to 4 (--other-classes-unlabelled"), std::string::npos)
      << e;
  EXPECT_TRUE(e.find("ghana_000003.npz") != std::string::npos || e.find("ghana_000042.npz") != std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists(dir / "c.h5"));
  ImportOptions opt;
  opt.from = dir.path();
  opt.out = dir / "ct.h5";
  opt.threads = 2;
  opt.other_classes_unlabelled = true;
  const auto report = import_release(reg().get("crop_type_africa"), reg(), opt);
  EXPECT_EQ(report.written, 6u);
  std::size_t other = 0;
  for (const auto& [status, n] : report.counts) {
    if (status == "tile_with_other_classes") other = n;
  }
  EXPECT_EQ(other, 2u);
  // Tallied in the tiles' order whatever the threads.
  EXPECT_EQ(report.samples.at("tile_with_other_classes"), (std::vector<std::string>{"ghana_000003", "ghana_000042"}));
  const auto check = test::run_python("crop_type_release.py", {"check", dir.path().string(), (dir / "ct.h5").string()});
  EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
  StoreReader r(dir / "ct.h5");
  std::vector<std::uint8_t> truth(64 * 64);
  for (const char* id : {"ghana_000003", "ghana_000042"}) {
    r.read("truth", *r.find(id), 1, truth.data());
    for (int p = 0; p < 8; ++p) EXPECT_EQ(truth[static_cast<std::size_t>(p)], 0) << id << " " << p;
  }
  // The option on another task: a usage error.
  const auto bad = test::run_sbench({"-q", "import", "brick_kiln", "--from", dir.path().string(), "--out",
                                     (dir / "b.h5").string(), "--other-classes-unlabelled"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--other-classes-unlabelled applies to crop_type_africa, not brick_kiln"), std::string::npos)
      << bad.err;
}

}  // namespace
}  // namespace sbench::store

namespace sbench::store {
namespace {

TEST(ImportCropTypeKenya, PickledMaskedSeriesLabelsAndFoldsAsTheRelease) {
  test::TempDir dir;
  test::run_python("kenya_release.py", {"make", dir.path().string()});
  const auto report = import_task("2B2", dir.path(), dir / "kenya.h5");
  EXPECT_EQ(report.written, 10u);
  const auto check = test::run_python("kenya_release.py", {"check", dir.path().string(), (dir / "kenya.h5").string()});
  EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
}

TEST(ImportCropTypeKenya, OldColumnSpellingsAndAMaliciousSeriesFile) {
  test::TempDir dir;
  test::run_python("kenya_release.py", {"make", dir.path().string()});
  const auto meta = dir / "croptype_mapping_kenya" / "crop_type_kenya_2017_metadata.csv";
  std::string text = test::read_file(meta);
  // FORK-MW's spellings of the columns.
  text.replace(0, text.find(',') + 1, "file Name,");
  text.replace(text.find("cropType"), 8, "crop Type");
  text.replace(text.find("fieldID"), 7, "field ID");
  test::write_file(meta, text);
  EXPECT_EQ(import_task("crop_type_kenya", dir.path(), dir / "k.h5").written, 10u);
  // A series file that asks to run a program is refused, naming the file.
  test::write_file(dir / "croptype_mapping_kenya" / "timeseries" / "kenya_2017_sentinel2_timeseries_3.npy",
                   "cos\nsystem\n(S'touch /tmp/sbench-pwned'\ntR.");
  const std::string e = error_of("crop_type_kenya", dir.path(), dir / "k2.h5");
  EXPECT_NE(e.find("kenya_2017_sentinel2_timeseries_3.npy: the pickle refers to 'os.system'"), std::string::npos) << e;
  EXPECT_FALSE(std::filesystem::exists("/tmp/sbench-pwned"));
  EXPECT_FALSE(std::filesystem::exists(dir / "k2.h5"));
}

}  // namespace
}  // namespace sbench::store

namespace sbench::store {
namespace {

TEST(ImportPovertyChange, TilePairsLabelsCoordinatesAndTheHashSplit) {
  test::TempDir dir;
  test::run_python("lsms_release.py", {"make", dir.path().string()});
  const auto report = import_task("1B", dir.path(), dir / "lsms.h5");
  EXPECT_EQ(report.written, 20u);
  const auto check = test::run_python("lsms_release.py", {"check", dir.path().string(), (dir / "lsms.h5").string()});
  EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
  // A missing tile is counted, naming the file.
  std::filesystem::remove(dir / "lsms_npzs" / "mw_2016" / "101010002.npz");
  const auto again = import_task("1B", dir.path(), dir / "lsms2.h5");
  EXPECT_EQ(again.written, 19u);
  ASSERT_EQ(again.samples.at("missing_image").size(), 1u);
  EXPECT_NE(again.samples.at("missing_image")[0].find("mw_2016/101010002.npz"), std::string::npos);
}

}  // namespace
}  // namespace sbench::store

namespace sbench::store {
namespace {

TEST(ImportOurLayouts, CroplandLandCoverRepAndLandCoverOod) {
  for (const std::string task : {"cropland", "land_cover_rep", "land_cover_ood"}) {
    SCOPED_TRACE(task);
    test::TempDir dir;
    test::run_python("ours_release.py", {"make", task, dir.path().string()});
    const auto report = import_task(task, dir.path(), dir / "s.h5");
    EXPECT_GT(report.written, 0u);
    const auto check =
        test::run_python("ours_release.py", {"check", task, dir.path().string(), (dir / "s.h5").string()});
    EXPECT_NE(check.out.find("0 problems"), std::string::npos) << check.out;
  }
}

TEST(ImportOurLayouts, BadRowsNameTheFileAndLine) {
  test::TempDir dir;
  test::run_python("ours_release.py", {"make", "cropland", dir.path().string()});
  const auto meta = dir / "cropland" / "metadata.csv";
  std::string text = test::read_file(meta);
  text.replace(text.find(",train,"), 7, ",dev,");
  test::write_file(meta, text);
  EXPECT_NE(error_of("2A", dir.path(), dir / "c.h5").find("metadata.csv: line 2: split 'dev' is not one of"),
            std::string::npos);
}

}  // namespace
}  // namespace sbench::store
