// The settings of sbench train: defaults, the card's "train" object, a --config file and --set in
// that order; unknown keys and bad values refused with the valid keys named.
#include <gtest/gtest.h>

#include "sbench/baseline/train_config.hpp"
#include "sbench/core/error.hpp"
#include "test_support.hpp"

namespace sbench::baseline {
namespace {

template <typename E, typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return {};
}

TEST(TrainConfig, DefaultsThenCardThenFileThenSetThenEpochs) {
  const auto& poverty = TaskRegistry::builtin().get("poverty");
  auto c = TrainConfig::resolve(poverty, "", {});
  EXPECT_EQ(c.str("model"), "resnet18");
  EXPECT_EQ(c.integer("batch_size"), 64) << "datasets/bases/dhs.json train";
  EXPECT_EQ(c.number("weight_decay"), 0.0001);
  EXPECT_EQ(c.integer("prefetch"), 4) << "not in the card: the default";
  test::TempDir dir;
  test::write_file(dir / "c.json", R"({"batch_size": 16, "lr": 0.01, "augment": false})");
  c = TrainConfig::resolve(poverty, (dir / "c.json").string(), {"lr=0.02", "target=asset_index"}, 3);
  EXPECT_EQ(c.integer("batch_size"), 16);
  EXPECT_EQ(c.number("lr"), 0.02);
  EXPECT_FALSE(c.flag("augment"));
  EXPECT_EQ(c.str("target"), "asset_index");
  EXPECT_EQ(c.integer("epochs"), 3);
  // A run's config.json reads back to the same settings.
  const auto back = TrainConfig::from_json(c.json(), "config.json");
  EXPECT_TRUE(back.differences(c).empty());
  auto other = TrainConfig::resolve(poverty, (dir / "c.json").string(), {"lr=0.5", "target=asset_index"}, 9);
  EXPECT_EQ(back.differences(other), (std::vector<std::string>{"lr (0.02 before, 0.5 now)"})) << "epochs may change";
}

TEST(TrainConfig, UnknownKeysAndBadValuesAreRefused) {
  const auto& kiln = TaskRegistry::builtin().get("brick_kiln");
  auto msg = error_of<UsageError>([&] { TrainConfig::resolve(kiln, "", {"batchsize=3"}); });
  EXPECT_NE(msg.find("unknown key 'batchsize' (valid keys: model, target, epochs, batch_size"), std::string::npos)
      << msg;
  msg = error_of<UsageError>([&] { TrainConfig::resolve(kiln, "", {"epochs=many"}); });
  EXPECT_NE(msg.find("epochs must be an integer"), std::string::npos) << msg;
  msg = error_of<UsageError>([&] { TrainConfig::resolve(kiln, "", {"optimizer=rmsprop"}); });
  EXPECT_NE(msg.find("optimizer 'rmsprop' is not one of adam, adamw, sgd"), std::string::npos) << msg;
  msg = error_of<UsageError>([&] { TrainConfig::resolve(kiln, "", {"lr=0"}); });
  EXPECT_NE(msg.find("lr must be a positive number"), std::string::npos) << msg;
  msg = error_of<UsageError>([&] { TrainConfig::resolve(kiln, "", {"target=asset_index"}); });
  EXPECT_NE(msg.find("target 'asset_index' is not a target of brick_kiln (label)"), std::string::npos) << msg;
  msg = error_of<UsageError>([&] { TrainConfig::resolve(kiln, "", {"lr"}); });
  EXPECT_NE(msg.find("expected key=value"), std::string::npos) << msg;
  test::TempDir dir;
  test::write_file(dir / "c.json", R"({"batch_size": 16, "learning_rate": 0.01})");
  msg = error_of<InputError>([&] { TrainConfig::resolve(kiln, (dir / "c.json").string(), {}); });
  EXPECT_NE(msg.find((dir / "c.json").string() + ": unknown training setting 'learning_rate' (valid keys:"),
            std::string::npos)
      << msg;
  test::write_file(dir / "d.json", R"({"batch_size": "big"})");
  msg = error_of<InputError>([&] { TrainConfig::resolve(kiln, (dir / "d.json").string(), {}); });
  EXPECT_NE(msg.find("batch_size must be an integer (got \"big\")"), std::string::npos) << msg;
}

}  // namespace
}  // namespace sbench::baseline
