// The store's writer, reader, layouts, repack and resume, on synthetic examples whose every value
// is known; h5py reads the result as a Python user would.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include "sbench/core/error.hpp"
#include "sbench/store/stats.hpp"
#include "sbench/store/store.hpp"
#include "test_support.hpp"

namespace sbench::store {
namespace {

Schema toy_schema() {
  Schema s;
  s.task = "toy";
  s.family = "toy";
  s.tasks = {"toy"};
  s.fields = {
      {Group::input, "x", ElementType::float32, {3, 4, 5}, {"A", "B", "C"}, "CHW", ""},
      {Group::input, "mask", ElementType::uint8, {4, 5}, {}, "HW", ""},
      {Group::target, "y", ElementType::float32, {}, {}, "", "t/ha"},
      {Group::target, "cls", ElementType::int8, {}, {}, "", ""},
      {Group::meta, "country", ElementType::string, {}, {}, "", ""},
      {Group::meta, "year", ElementType::int64, {}, {}, "", ""},
  };
  return s;
}

// Example i: x[c,h,w] = i*1000 + c*100 + h*10 + w, mask = (h + w + i) % 2, y = i / 4 (NaN for i = 3),
// cls = i % 3, country "C<i%4>", year 2000 + i, split i % 3.
void fill(Example& ex, int i) {
  ex.id = "ex-" + std::to_string(i);
  ex.split = static_cast<std::uint8_t>(i % 3);
  float* x = ex.as<float>("x");
  for (int c = 0; c < 3; ++c)
    for (int h = 0; h < 4; ++h)
      for (int w = 0; w < 5; ++w) x[(c * 4 + h) * 5 + w] = static_cast<float>(i * 1000 + c * 100 + h * 10 + w);
  auto* m = ex.as<std::uint8_t>("mask");
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 5; ++w) m[h * 5 + w] = static_cast<std::uint8_t>((h + w + i) % 2);
  ex.set("y", i == 3 ? NAN : i / 4.0);
  ex.set("cls", i % 3);
  ex.set("country", "C" + std::to_string(i % 4));
  ex.set("year", 2000 + i);
}

void write_toy(const std::filesystem::path& path, int n, Layout layout) {
  const Schema schema = toy_schema();
  WriterOptions opt;
  opt.layout = layout;
  opt.batch = 4;
  opt.source = "toy-source";
  StoreWriter w(path, schema, opt);
  Example ex(w.schema());
  for (int i = 0; i < n; ++i) {
    fill(ex, i);
    w.append(ex);
  }
  w.add_source_file({"labels.csv", 12, 0xdeadbeef});
  w.set_attribute("note", "hello");
  EXPECT_FALSE(std::filesystem::exists(path)) << "the store appears only when finished";
  w.finish();
}

void check_toy(const StoreReader& r, int n) {
  ASSERT_EQ(r.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(r.schema().task, "toy");
  EXPECT_EQ(r.schema().field("x").bands, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(r.schema().field("x").shape, (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(r.schema().field("y").units, "t/ha");
  std::vector<float> x(static_cast<std::size_t>(n) * 60);
  r.read("x", 0, static_cast<std::size_t>(n), x.data());
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c)
      for (int h = 0; h < 4; ++h)
        for (int w = 0; w < 5; ++w) {
          ASSERT_EQ(x[static_cast<std::size_t>(((i * 3 + c) * 4 + h) * 5 + w)], i * 1000 + c * 100 + h * 10 + w);
        }
  }
  std::vector<std::uint8_t> mask(20);
  r.read("mask", 5, 1, mask.data());
  for (int h = 0; h < 4; ++h)
    for (int w = 0; w < 5; ++w) EXPECT_EQ(mask[static_cast<std::size_t>(h * 5 + w)], (h + w + 5) % 2);
  const auto y = r.read_numbers("y");
  EXPECT_TRUE(std::isnan(y[3]));
  EXPECT_EQ(y[8], 2.0);
  EXPECT_EQ(r.read_numbers("cls")[7], 1.0);
  EXPECT_EQ(r.read_strings("country")[6], "C2");
  EXPECT_EQ(r.read_numbers("year")[9], 2009.0);
  EXPECT_EQ(r.index("ex-7"), 7u);
  EXPECT_FALSE(r.find("nope").has_value());
  EXPECT_THROW(r.index("nope"), InputError);
  std::vector<std::size_t> val;
  for (int i = 0; i < n; ++i) {
    if (i % 3 == 1) val.push_back(static_cast<std::size_t>(i));
  }
  EXPECT_EQ(r.indices("val"), val);
  EXPECT_EQ(r.attributes().at("note"), "hello");
  EXPECT_EQ(r.attributes().at("source"), "toy-source");
  ASSERT_EQ(r.source_files().size(), 1u);
  EXPECT_EQ(r.source_files()[0].crc32, 0xdeadbeefu);
  EXPECT_THROW(r.read("x", static_cast<std::size_t>(n) - 1, 2, x.data()), InputError);
}

TEST(Store, ArchiveLayoutRoundTrip) {
  test::TempDir dir;
  write_toy(dir / "a.h5", 23, Layout::archive);
  StoreReader r(dir / "a.h5");
  EXPECT_EQ(r.layout(), Layout::archive);
  check_toy(r, 23);
  EXPECT_FALSE(std::filesystem::exists(dir / "a.h5.partial"));
  EXPECT_FALSE(std::filesystem::exists(dir / "a.h5.partial.journal"));
}

TEST(Store, TrainLayoutIsContiguousAndReadInParallel) {
  test::TempDir dir;
  write_toy(dir / "t.h5", 23, Layout::train);
  StoreReader r(dir / "t.h5");
  EXPECT_EQ(r.layout(), Layout::train);
  check_toy(r, 23);
  // Many threads reading single examples at once must each get their own example.
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> x(60);
      for (int rep = 0; rep < 200; ++rep) {
        const int i = (rep * 7 + t) % 23;
        r.read("x", static_cast<std::size_t>(i), 1, x.data());
        if (x[59] != static_cast<float>(i * 1000 + 234)) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// The archive layout decodes chunks outside HDF5's lock: threads reading at once each get their
// own example, with the writer's filters (shuffle + deflate), without compression, and with chunks
// h5py wrote in other ways (deflate alone; Fletcher-32 and big-endian floats, read through H5Dread).
TEST(Store, ArchiveLayoutIsDecodedInParallel) {
  test::TempDir dir;
  write_toy(dir / "a.h5", 23, Layout::archive);
  auto parallel_reads = [](const StoreReader& r) {
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::vector<float> x(120);
        for (int rep = 0; rep < 100; ++rep) {
          const int i = (rep * 7 + t) % 22;
          r.read("x", static_cast<std::size_t>(i), 2, x.data());
          for (int k = 0; k < 120; ++k) {
            const int e = i + k / 60, c = (k % 60) / 20, h = (k % 20) / 5, w = k % 5;
            if (x[static_cast<std::size_t>(k)] != static_cast<float>(e * 1000 + c * 100 + h * 10 + w)) ++wrong;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return wrong.load();
  };
  EXPECT_EQ(parallel_reads(StoreReader(dir / "a.h5")), 0);
  EXPECT_TRUE(StoreReader(dir / "a.h5").decodes_chunks("x"));
  repack(dir / "a.h5", dir / "plain.h5", Layout::archive, 0);
  check_toy(StoreReader(dir / "plain.h5"), 23);
  EXPECT_EQ(parallel_reads(StoreReader(dir / "plain.h5")), 0);
  EXPECT_TRUE(StoreReader(dir / "plain.h5").decodes_chunks("x")) << "chunked, no filter";
  for (const std::string kw :
       {"compression='gzip'", "fletcher32=True", "dtype='>f4', compression='gzip', shuffle=True"}) {
    const auto path = dir / "h5py.h5";
    std::filesystem::copy_file(dir / "a.h5", path, std::filesystem::copy_options::overwrite_existing);
    const auto made = test::run_process(
        {test::python(), "-c",
         "import h5py,sys\n"
         "f=h5py.File(sys.argv[1],'a'); x=f['inputs/x']; v=x[...]; attrs=dict(x.attrs); del f['inputs/x']\n"
         "kw=dict(" +
             kw +
             ")\n"
             "d=f.create_dataset('inputs/x', data=v.astype(kw.pop('dtype', v.dtype)), chunks=(1,)+v.shape[1:], **kw)\n"
             "d.attrs.update(attrs)\n",
         path.string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    check_toy(StoreReader(path), 23);
    EXPECT_EQ(parallel_reads(StoreReader(path)), 0) << kw;
    // Deflate alone is decoded here; a checksum filter or big-endian floats go through H5Dread.
    EXPECT_EQ(StoreReader(path).decodes_chunks("x"), kw == "compression='gzip'") << kw;
  }
  // A damaged compressed chunk is an error naming the example, not wrong numbers.
  const auto where = test::run_process({test::python(), "-c",
                                        "import h5py,sys; i=h5py.File(sys.argv[1])['inputs/x'].id.get_chunk_info(4); "
                                        "print(i.byte_offset, i.size)",
                                        (dir / "a.h5").string()});
  ASSERT_EQ(where.exit_code, 0) << where.err;
  std::uint64_t offset = 0, size = 0;
  std::istringstream(where.out) >> offset >> size;
  ASSERT_GT(size, 8u);
  std::string bytes = test::read_file(dir / "a.h5");
  for (std::uint64_t b = 2; b < size - 4; ++b) bytes[offset + b] = static_cast<char>(0x5a ^ b);
  test::write_file(dir / "bad.h5", bytes);
  StoreReader bad(dir / "bad.h5");
  std::vector<float> x(60);
  bad.read("x", 3, 1, x.data());
  try {
    bad.read("x", 4, 1, x.data());
    FAIL() << "a damaged chunk was read";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("'x' of example ex-4: the compressed chunk is corrupt"), std::string::npos)
        << e.what();
  }
}

TEST(Store, RepackBothWaysKeepsEverything) {
  test::TempDir dir;
  write_toy(dir / "a.h5", 17, Layout::archive);
  repack(dir / "a.h5", dir / "t.h5", Layout::train);
  repack(dir / "t.h5", dir / "a2.h5", Layout::archive);
  check_toy(StoreReader(dir / "t.h5"), 17);
  check_toy(StoreReader(dir / "a2.h5"), 17);
  EXPECT_EQ(StoreReader(dir / "t.h5").layout(), Layout::train);
  test::run_python("compare_stores.py", {(dir / "a.h5").string(), (dir / "a2.h5").string()});
  EXPECT_THROW(repack(dir / "a.h5", dir / "a.h5", Layout::train), UsageError);
}

TEST(Store, H5pyReadsTheTrainAndArchiveLayouts) {
  test::TempDir dir;
  write_toy(dir / "a.h5", 9, Layout::archive);
  write_toy(dir / "t.h5", 9, Layout::train);
  // Same numbers through h5py: the layouts differ only in storage (and in saying so).
  test::run_python("compare_stores.py", {(dir / "a.h5").string(), (dir / "t.h5").string(), "--ignore", "layout"});
  const auto r = test::run_process({test::python(), "-c",
                                    "import h5py,sys; f=h5py.File(sys.argv[1]); "
                                    "print(f['inputs/x'][4,2,3,1], f['meta/id'][4].decode(), f.attrs['task'], "
                                    "f['inputs/x'].chunks)",
                                    (dir / "t.h5").string()});
  EXPECT_EQ(r.out, "4231.0 ex-4 toy None\n") << r.err;
}

TEST(Store, DuplicateIdsAndUnfinishedStoresAreErrors) {
  test::TempDir dir;
  {
    StoreWriter w(dir / "d.h5", toy_schema(), {});
    Example ex(w.schema());
    fill(ex, 1);
    w.append(ex);
    EXPECT_THROW(w.append(ex), InputError);
  }  // destroyed without finish: only the partial file and its journal exist
  EXPECT_FALSE(std::filesystem::exists(dir / "d.h5"));
  EXPECT_TRUE(std::filesystem::exists(dir / "d.h5.partial"));
  try {
    StoreReader r(dir / "d.h5");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("unfinished"), std::string::npos) << e.what();
  }
}

TEST(Store, ResumeContinuesFromTheJournal) {
  test::TempDir dir;
  write_toy(dir / "ref.h5", 30, Layout::archive);
  {
    WriterOptions opt;
    opt.batch = 4;
    opt.source = "toy-source";
    StoreWriter w(dir / "r.h5", toy_schema(), opt);
    Example ex(w.schema());
    for (int i = 0; i < 13; ++i) {  // 3 flushed batches of 4, one example not flushed
      fill(ex, i);
      w.append(ex);
    }
  }
  WriterOptions opt;
  opt.batch = 4;
  opt.resume = true;
  opt.source = "toy-source";
  StoreWriter w(dir / "r.h5", toy_schema(), opt);
  // Everything appended before the destructor was flushed by it, so 13 survive.
  EXPECT_EQ(w.resumed(), 13u);
  EXPECT_TRUE(w.contains("ex-12"));
  Example ex(w.schema());
  for (int i = 13; i < 30; ++i) {
    fill(ex, i);
    w.append(ex);
  }
  w.add_source_file({"labels.csv", 12, 0xdeadbeef});
  w.set_attribute("note", "hello");
  w.finish();
  test::run_python("compare_stores.py", {(dir / "ref.h5").string(), (dir / "r.h5").string()});
}

TEST(Store, ResumeWithOtherOptionsIsRefusedAndADamagedPartialStartsOver) {
  test::TempDir dir;
  {
    WriterOptions opt;
    opt.source = "first";
    StoreWriter w(dir / "s.h5", toy_schema(), opt);
    Example ex(w.schema());
    fill(ex, 0);
    w.append(ex);
  }
  WriterOptions other;
  other.source = "second";
  other.resume = true;
  EXPECT_THROW(StoreWriter(dir / "s.h5", toy_schema(), other), UsageError);
  // A partial file that is not HDF5 any more cannot be trusted: the writer starts over.
  test::write_file(dir / "s.h5.partial", "garbage");
  WriterOptions same;
  same.source = "first";
  same.resume = true;
  StoreWriter w(dir / "s.h5", toy_schema(), same);
  EXPECT_EQ(w.resumed(), 0u);
}

TEST(Store, CorruptFilesAreClearErrors) {
  test::TempDir dir;
  write_toy(dir / "a.h5", 5, Layout::archive);
  const std::string bytes = test::read_file(dir / "a.h5");
  test::write_file(dir / "cut.h5", bytes.substr(0, bytes.size() / 3));
  EXPECT_THROW(StoreReader(dir / "cut.h5"), Error);
  test::write_file(dir / "text.h5", "not hdf5");
  try {
    StoreReader r(dir / "text.h5");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("text.h5: not a readable HDF5 file"), std::string::npos);
  }
  const auto made =
      test::run_process({test::python(), "-c", "import h5py,sys; f=h5py.File(sys.argv[1],'w'); f['a']=[1,2]",
                         (dir / "foreign.h5").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  try {
    StoreReader r(dir / "foreign.h5");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not an sbench store"), std::string::npos);
  }
}

TEST(Store, StatsOverTheTrainSplitAgainstNumpy) {
  test::TempDir dir;
  write_toy(dir / "a.h5", 20, Layout::archive);
  const std::size_t n = compute_stats(dir / "a.h5", {{"late", "year", 2010.0, std::nullopt, std::nullopt}});
  EXPECT_EQ(n, 7u);  // i % 3 == 0 for i < 20
  StoreReader r(dir / "a.h5");
  const auto stats = r.stats();
  // numpy over the same train examples, per band (population std).
  const auto py =
      test::run_process({test::python(), "-c",
                         "import numpy as np\n"
                         "idx=[i for i in range(20) if i%3==0]\n"
                         "def x(i):\n"
                         "  c,h,w=np.meshgrid(range(3),range(4),range(5),indexing='ij'); return "
                         "(i*1000+c*100+h*10+w).astype(np.float64)\n"
                         "for sel in (idx,[i for i in idx if 2000+i>=2010]):\n"
                         "  a=np.stack([x(i) for i in sel])\n"
                         "  print(' '.join(repr(v) for v in list(a.mean(axis=(0,2,3)))+list(a.std(axis=(0,2,3)))))\n"});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  std::istringstream lines(py.out);
  for (const char* group : {"all", "late"}) {
    const auto& s = stats.at(group).at("x");
    for (int k = 0; k < 3; ++k) {
      double m = 0;
      lines >> m;
      EXPECT_NEAR(s.mean[static_cast<std::size_t>(k)], m, 1e-9 * std::abs(m)) << group;
    }
    for (int k = 0; k < 3; ++k) {
      double sd = 0;
      lines >> sd;
      EXPECT_NEAR(s.std[static_cast<std::size_t>(k)], sd, 1e-9 * sd) << group;
    }
  }
  EXPECT_EQ(stats.at("all").at("x").count, 7u * 20u);
  EXPECT_EQ(stats.at("late").at("x").count, 3u * 20u);  // i = 12, 15, 18
}

}  // namespace
}  // namespace sbench::store
