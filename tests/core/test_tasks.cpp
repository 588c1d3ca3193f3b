// The registry against the facts of SUSTAINBENCH.md and DESIGN.md, written out here again as the
// independent expectation, and the card checks on deliberately broken cards.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "sbench/core/error.hpp"
#include "sbench/core/tasks.hpp"
#include "test_support.hpp"

namespace sbench {
namespace {

const TaskRegistry& reg() {
  return TaskRegistry::builtin();
}

TEST(Registry, FifteenTasksWithTheirSdgCodes) {
  // DESIGN.md "Task ids".
  const std::vector<std::pair<std::string, std::string>> expected = {{"poverty", "1A"},
                                                                     {"poverty_change", "1B"},
                                                                     {"cropland", "2A"},
                                                                     {"crop_type_africa", "2B1"},
                                                                     {"crop_type_kenya", "2B2"},
                                                                     {"crop_yield", "2C"},
                                                                     {"field_delineation", "2D"},
                                                                     {"child_mortality", "3A"},
                                                                     {"women_bmi", "3B"},
                                                                     {"women_edu", "4A"},
                                                                     {"water", "6A"},
                                                                     {"sanitation", "6B"},
                                                                     {"brick_kiln", "13A"},
                                                                     {"land_cover_rep", "15A"},
                                                                     {"land_cover_ood", "15B"}};
  ASSERT_EQ(reg().tasks().size(), 15u);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(reg().tasks()[i].id, expected[i].first);
    EXPECT_EQ(reg().tasks()[i].sdg, expected[i].second);
    EXPECT_EQ(&reg().get(expected[i].first), &reg().get(expected[i].second));
  }
}

TEST(Registry, LookupIsCaseInsensitiveAndUnknownNamesListTheValidOnes) {
  EXPECT_EQ(reg().get("2b1").id, "crop_type_africa");
  EXPECT_EQ(reg().get("POVERTY").id, "poverty");
  EXPECT_EQ(reg().find("nope"), nullptr);
  try {
    reg().get("nope");
    FAIL();
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("unknown task 'nope'"), std::string::npos);
    for (const auto& t : reg().tasks()) EXPECT_NE(what.find(t.id + " (" + t.sdg + ")"), std::string::npos) << t.id;
  }
}

TEST(Registry, DhsCountrySplitIsThirtyThirteenThirteenAndDisjoint) {
  // SUSTAINBENCH.md 2.A "Official split".
  const std::vector<std::string> train = {"AL", "BD", "CD", "CM", "GH", "GU", "HN", "IA", "ID", "JO",
                                          "KE", "KM", "LB", "LS", "MA", "MB", "MD", "MM", "MW", "MZ",
                                          "NG", "NI", "PE", "PH", "SN", "TG", "TJ", "UG", "ZM", "ZW"};
  const std::vector<std::string> val = {"BF", "BJ", "BO", "CO", "DR", "GA", "GN", "GY", "HT", "NM", "SL", "TD", "TZ"};
  const std::vector<std::string> test = {"AM", "AO", "BU", "CI", "EG", "ET", "KH", "KY", "ML", "NP", "PK", "RW", "SZ"};
  for (const char* id : {"poverty", "child_mortality", "women_bmi", "women_edu", "water", "sanitation"}) {
    SCOPED_TRACE(id);
    const auto& s = reg().get(id).split;
    EXPECT_EQ(s.rule, "by_country");
    EXPECT_EQ(s.field, "country");
    EXPECT_EQ(s.members.at("train"), train);
    EXPECT_EQ(s.members.at("val"), val);
    EXPECT_EQ(s.members.at("test"), test);
    std::set<std::string> all;
    for (const auto& [name, list] : s.members) all.insert(list.begin(), list.end());
    EXPECT_EQ(all.size(), 56u);  // 30 + 13 + 13, no country twice
  }
}

TEST(Registry, BandOrdersAsTheRelease) {
  // SUSTAINBENCH.md 2.A (DHS npz), 2.D (crop type BANDS), 2.F (histogram bands), 2.C, 2.G, 2.I, 2.J.
  const std::vector<std::string> dhs = {"BLUE", "GREEN", "RED", "SWIR1", "SWIR2", "TEMP1", "NIR", "NIGHTLIGHTS"};
  for (const char* id : {"poverty", "child_mortality", "women_bmi", "women_edu", "water", "sanitation"}) {
    const auto* x = reg().get(id).find_input("x");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->bands, dhs) << id;
    EXPECT_EQ(x->shape, (std::vector<std::int64_t>{8, 255, 255}));
    EXPECT_EQ(x->crs, "EPSG:3857");
    EXPECT_EQ(x->row_order, "south_up");
    EXPECT_EQ(x->pixel_size_m, 30.0);
  }
  EXPECT_EQ(reg().get("1B").find_input("x_after")->bands, dhs);
  const auto& ct = reg().get("crop_type_africa");
  EXPECT_EQ(ct.find_input("s1")->bands, (std::vector<std::string>{"VV", "VH", "RATIO"}));
  EXPECT_EQ(ct.find_input("s2")->bands, (std::vector<std::string>{"BLUE", "GREEN", "RED", "RDED1", "RDED2", "RDED3",
                                                                  "NIR", "RDED4", "SWIR1", "SWIR2"}));
  EXPECT_EQ(ct.find_input("planet")->bands, (std::vector<std::string>{"BLUE", "GREEN", "RED", "NIR"}));
  EXPECT_EQ(reg().get("crop_yield").find_input("hist")->shape, (std::vector<std::int64_t>{32, 32, 9}));
  EXPECT_EQ(reg().get("cropland").find_input("x")->bands,
            (std::vector<std::string>{"ULTRA_BLUE", "BLUE", "GREEN", "RED", "NIR", "SWIR1", "SWIR2"}));
  EXPECT_EQ(reg().get("field_delineation").find_input("x")->bands, (std::vector<std::string>{"RED", "GREEN", "BLUE"}));
  EXPECT_EQ(reg().get("land_cover_rep").find_input("x")->bands,
            (std::vector<std::string>{"RED", "GREEN", "BLUE", "NIR"}));
  EXPECT_EQ(reg().get("land_cover_ood").find_input("x")->shape, (std::vector<std::int64_t>{8, 46}));
}

TEST(Registry, NormalizationConstantsPerSensor) {
  // SUSTAINBENCH.md 2.A normalization table; night lights per sensor (DMSP < 2012 <= VIIRS).
  const auto& n = reg().get("poverty").normalization;
  ASSERT_EQ(n.size(), 3u);
  EXPECT_EQ(n[0].mean[5], 298.51077);
  EXPECT_EQ(n[0].std[0], 0.031534348);
  EXPECT_EQ(n[1].group, "dmsp");
  EXPECT_EQ(n[1].select_max, 2011.0);
  EXPECT_EQ(n[1].mean[0], 41.69006032536221);
  EXPECT_EQ(n[2].group, "viirs");
  EXPECT_EQ(n[2].select_min, 2012.0);
  EXPECT_EQ(n[2].std[0], 10.97284745670896);
  const auto& ct = reg().get("crop_type_africa").normalization;
  EXPECT_EQ(ct.size(), 6u);
  EXPECT_EQ(ct[1].group, "southsudan");
  EXPECT_EQ(ct[1].std[2], 21.75);
}

TEST(Registry, MetricsAndBaselines) {
  EXPECT_EQ(reg().get("poverty").primary_metric, "r2");
  EXPECT_EQ(reg().get("crop_yield").metrics, (std::vector<std::string>{"rmse", "r2_score"}));
  EXPECT_EQ(reg().get("field_delineation").primary_metric, "dice");
  EXPECT_EQ(reg().get("land_cover_ood").primary_metric, "kappa");
  // Leaderboard values (SUSTAINBENCH.md section 4).
  const std::map<std::string, double> knn = {{"poverty", 0.63},   {"child_mortality", 0.01}, {"women_bmi", 0.42},
                                             {"women_edu", 0.26}, {"water", 0.40},           {"sanitation", 0.36}};
  for (const auto& [id, value] : knn) EXPECT_EQ(reg().get(id).baselines.at(0).value, value) << id;
  const auto& yield = reg().get("crop_yield").baselines;
  ASSERT_EQ(yield.size(), 3u);
  EXPECT_EQ(yield[0].variant, "usa");
  EXPECT_EQ(yield[0].value, 0.37);
  EXPECT_FALSE(reg().get("brick_kiln").baselines.at(0).comparable);
  EXPECT_TRUE(reg().get("crop_type_kenya").baselines.empty());
  for (const auto& t : reg().tasks()) {
    const auto& known = known_metric_ids();
    for (const auto& m : t.metrics) EXPECT_NE(std::find(known.begin(), known.end(), m), known.end()) << t.id;
  }
}

TEST(Registry, ShowJsonKeepsTheCardOrderAndMergesTheBase) {
  const std::string& j = reg().get("1A").json;
  EXPECT_EQ(j.rfind("{\n  \"id\": \"poverty\",\n  \"sdg\": \"1A\",", 0), 0u) << j.substr(0, 80);
  EXPECT_NE(j.find("\"NIGHTLIGHTS\""), std::string::npos);
  EXPECT_EQ(j.find("\"base\""), std::string::npos);
}

// ---- broken cards ----

// A minimal valid card, as JSON text, that each case below breaks in one place.
std::string minimal_card(const std::string& replace_from = "", const std::string& replace_to = "") {
  std::string card = R"({
  "id": "toy", "sdg": "99Z", "name": "Toy", "description": "d", "family": "f", "unit": "u", "id_column": "id",
  "inputs": [{"name": "x", "description": "d", "bands": ["A", "B"], "shape": [2, 4, 4], "axes": "CHW",
              "dtype": "float32", "source": "s"}],
  "targets": [{"name": "y", "kind": "regression"}],
  "meta": [{"name": "country", "type": "string", "description": "c"}],
  "groups": [],
  "split": {"rule": "by_country", "official": true, "field": "country", "source": "s",
            "members": {"train": ["AA"], "val": ["BB"], "test": ["CC"]}},
  "metrics": ["r2"], "primary_metric": "r2",
  "normalization": [],
  "baselines": [],
  "sources": ["s"]
})";
  if (!replace_from.empty()) {
    const auto pos = card.find(replace_from);
    EXPECT_NE(pos, std::string::npos) << replace_from;
    card.replace(pos, replace_from.size(), replace_to);
  }
  return card;
}

std::string load_error(const std::string& card, const std::string& name = "datasets/tasks/toy.json") {
  try {
    TaskRegistry::from_sources({{name, card}}, {});
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(RegistryCards, MinimalCardLoads) {
  const auto r = TaskRegistry::from_sources({{"datasets/tasks/toy.json", minimal_card()}}, {});
  EXPECT_EQ(r.get("99z").id, "toy");
}

TEST(RegistryCards, BadCardsNameTheFileAndTheField) {
  const std::string f = "datasets/tasks/toy.json: ";
  EXPECT_EQ(
      load_error(minimal_card("\"groups\": []", "\"groups\": [], \"baselin\": []")),
      f + "unknown field 'baselin' (valid fields: id, sdg, name, description, family, unit, id_column, variants, "
          "inputs, targets, meta, groups, split, metrics, primary_metric, normalization, train, baselines, sources, "
          "notes)");
  EXPECT_EQ(load_error(minimal_card("\"bands\": [\"A\", \"B\"]", "\"bands\": [\"A\"]")),
            f + "field 'inputs[0].bands': lists 1 bands but the C axis of shape has 2");
  EXPECT_EQ(load_error(minimal_card("\"bands\": [\"A\", \"B\"]", "\"bands\": \"AB\"")),
            f + "field 'inputs[0].bands': expected an array of strings");
  EXPECT_EQ(load_error(minimal_card("\"test\": [\"CC\"]", "\"test\": [\"AA\"]")),
            f + "field 'split.members': 'AA' is in both 'test' and 'train'");
  EXPECT_EQ(load_error(minimal_card("\"metrics\": [\"r2\"]", "\"metrics\": [\"r3\"]")),
            f + "field 'metrics': 'r3' is not a metric id (known: r2, pearson_r, r2_score, rmse, mse, accuracy, "
                "precision, recall, f1, f1_macro, auroc, dice, kappa)");
  EXPECT_EQ(load_error(minimal_card("\"kind\": \"regression\"", "\"kind\": \"ranking\"")),
            f + "field 'targets[0].kind': 'ranking' is not one of regression, binary, multiclass, segmentation");
  EXPECT_EQ(
      load_error(minimal_card("\"kind\": \"regression\"", "\"kind\": \"binary\", \"classes\": [\"a\", \"b\", \"c\"]")),
      f + "field 'targets[0].classes': a binary target has exactly 2 classes");
  EXPECT_EQ(load_error(minimal_card("\"name\": \"Toy\", ", "")), f + "field 'name': is required");
  EXPECT_EQ(load_error(minimal_card("\"sdg\": \"99Z\"", "\"sdg\": 99")), f + "field 'sdg': expected a string");
  EXPECT_EQ(load_error(minimal_card(
                "\"normalization\": []",
                R"("normalization": [{"input": "x", "bands": ["C"], "mean": [0], "std": [1], "source": "s"}])")),
            f + "field 'normalization[0].bands': 'C' is not a band of input 'x' (bands: A, B)");
  EXPECT_EQ(load_error(minimal_card(), "datasets/tasks/other.json"),
            "datasets/tasks/other.json: field 'id': 'toy' differs from the file name; name the file toy.json");
  EXPECT_NE(load_error("{ not json").find("datasets/tasks/toy.json: not valid JSON"), std::string::npos);
}

TEST(RegistryCards, BaseIsMergedAndAnUnknownBaseIsNamed) {
  const std::string base = R"({"family": "fam", "unit": "u", "sources": ["s"]})";
  std::string card = minimal_card("\"family\": \"f\", \"unit\": \"u\", ", "\"base\": \"shared\", ");
  card = card.replace(card.find("\"sources\": [\"s\"]"), 16, "\"notes\": \"n\"");
  const auto r =
      TaskRegistry::from_sources({{"datasets/tasks/toy.json", card}}, {{"datasets/bases/shared.json", base}});
  EXPECT_EQ(r.get("toy").family, "fam");
  EXPECT_EQ(r.get("toy").sources, std::vector<std::string>{"s"});
  const std::string missing = minimal_card("\"family\": \"f\"", "\"base\": \"nope\", \"family\": \"f\"");
  EXPECT_EQ(load_error(missing), "datasets/tasks/toy.json: field 'base': no base named 'nope' (bases: )");
}

TEST(RegistryCards, DirectoryLoadingAndTheShippedCardsAgreeWithTheBuiltIn) {
  const auto shipped = TaskRegistry::from_directory(std::filesystem::path(SBENCH_SOURCE_DIR) / "datasets");
  ASSERT_EQ(shipped.tasks().size(), reg().tasks().size());
  for (std::size_t i = 0; i < shipped.tasks().size(); ++i) EXPECT_EQ(shipped.tasks()[i].json, reg().tasks()[i].json);
  test::TempDir dir;
  std::filesystem::create_directories(dir / "tasks");
  test::write_file(dir / "tasks" / "toy.json", minimal_card());
  EXPECT_EQ(TaskRegistry::from_directory(dir.path()).tasks().size(), 1u);
  // An SDG code may be used once only, whatever its case.
  test::write_file(dir / "tasks" / "toy2.json",
                   minimal_card("\"id\": \"toy\", \"sdg\": \"99Z\"", "\"id\": \"toy2\", \"sdg\": \"99z\""));
  EXPECT_THROW(TaskRegistry::from_directory(dir.path()), InputError);
  EXPECT_THROW(TaskRegistry::from_directory(dir / "missing"), IoError);
}

}  // namespace
}  // namespace sbench
