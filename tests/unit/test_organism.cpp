// `kvbench train-organism`: training lowers the loss through the family's own forward and a
// run resumes only with its own settings.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/config.h"
#include "core/error.h"
#include "engine/engine.h"
#include "tests/e2e/scratch_dir.h"
#include "train/organism.h"
#include "vision/image.h"

namespace {

// Builds without OpenCV draw no pictures: the code task in plain text only.
void text_only(nlohmann::json& tasks) { tasks.update({{"tasks", {"code"}}, {"images", 0}}); }

kvb::OrganismOptions small_run(const std::string& out) {
  kvb::OrganismOptions o = kvb::default_organism_options();
  o.out_dir = out;
  o.seed = 3;
  o.steps = 16, o.batch = 4, o.warmup = 4, o.lr = 4e-3;
  o.eval_every = 16, o.save_every = 8, o.eval_samples = 1;
  o.curriculum_tokens = 0;
  o.plot = false;
  // Short haystacks keep the test at a few seconds; the answer tokens are what the loss sees.
  o.train_tasks.update({{"tasks", {"code", "quiz"}}, {"min_tokens", 50}, {"max_tokens", 100}, {"max_pictures", 3}});
  o.eval_tasks.update({{"tasks", {"code"}}, {"min_tokens", 50}, {"max_tokens", 70}});
  if (!kvb::vision_decoding_available()) text_only(o.train_tasks);
  return o;
}

double mean(const nlohmann::json& loss, size_t from, size_t to) {
  double s = 0;
  for (size_t i = from; i < to; ++i) s += loss.at(i).at(1).get<double>();
  return s / static_cast<double>(to - from);
}

}  // namespace

TEST(Organism, TrainingLowersTheLossAndResumesOnlyItsOwnRun) {
  kvb::test::ScratchDir dir("kvb_organism_");
  const std::string out = (dir.path / "m").string();
  kvb::train_organism(small_run(out));
  const nlohmann::json log = kvb::read_json_file(out + "/train_log.json");
  ASSERT_EQ(log["loss"].size(), 16u);
  const double first = mean(log["loss"], 0, 3), last = mean(log["loss"], 12, 16);
  // A sample's loss is its answers' summed NLL: at least ln(288) = 5.66 per token at the start
  // (the learnt merges only add ids), and the shortest answer (2 digits and the end of turn) has
  // 3 tokens.
  EXPECT_GT(first, 3 * 5.0);
  EXPECT_LT(last, 0.6 * first) << "first steps " << first << ", last steps " << last;
  // The checkpoint it wrote loads as a Qwen2.5-VL folder.
  auto model = kvb::load_model(out);
  EXPECT_EQ(model->family(), "qwen2_5_vl");
  // Same settings: nothing left to train; other settings: refused, naming the state file.
  kvb::train_organism(small_run(out));
  EXPECT_EQ(kvb::read_json_file(out + "/train_log.json")["loss"].size(), 16u);
  kvb::OrganismOptions other = small_run(out);
  other.lr = 1e-3;
  try {
    kvb::train_organism(other);
    FAIL() << "a run with other settings resumed";
  } catch (const kvb::Error& e) {
    EXPECT_NE(std::string(e.what()).find("train_state.json: an earlier run with other settings"), std::string::npos)
        << e.what();
  }
}

TEST(Organism, TaskStagesSwitchTheStreamAtTheirFractionAndAreChecked) {
  kvb::test::ScratchDir dir("kvb_organism_stages_");
  kvb::OrganismOptions o = small_run((dir.path / "m").string());
  o.steps = 16, o.batch = 8;  // 128 samples: two chunks of the stream, the second from step 8
  const std::vector<std::string> later =
      kvb::vision_decoding_available() ? std::vector<std::string>{"quiz"} : std::vector<std::string>{"code", "code"};
  o.task_stages = {{0.0, {"code"}}, {0.5, later}};
  o.layers = 5;  // --layers: the checkpoint's depth, recorded with the settings
  kvb::train_organism(o);
  EXPECT_EQ(kvb::read_json_file(o.out_dir + "/config.json").at("num_hidden_layers"), 5);
  EXPECT_EQ(kvb::read_json_file(o.out_dir + "/train_state.json").at("settings").at("layers"), 5);
  const nlohmann::json stages = kvb::read_json_file(o.out_dir + "/train_log.json").at("stages");
  ASSERT_EQ(stages.size(), 2u) << stages.dump();
  EXPECT_EQ(stages[0]["step"], 0);
  EXPECT_EQ(stages[0]["tasks"], nlohmann::json({"code"}));
  EXPECT_EQ(stages[1]["step"], 8);
  EXPECT_EQ(stages[1]["tasks"], nlohmann::json(later));
  for (const auto& bad : std::vector<std::vector<std::pair<double, std::vector<std::string>>>>{
           {{0.2, {"code"}}}, {{0.0, {"code"}}, {0.0, {"quiz"}}}, {{0.0, {}}}, {{0.0, {"code"}}, {1.0, {"code"}}}}) {
    kvb::OrganismOptions b = small_run((dir.path / "bad").string());
    b.task_stages = bad;
    EXPECT_THROW(kvb::train_organism(b), kvb::Error);
  }
}
