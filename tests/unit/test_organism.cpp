// `kvbench train-organism`: training lowers the loss through the family's own forward and a
// run resumes only with its own settings.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/model.h"
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
  // eval_samples of each eval task: one task here.
  EXPECT_EQ(log.at("held_out_samples").get<int64_t>(), 1);
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

namespace {

std::map<std::string, at::Tensor> all_tensors(const std::string& path) {
  const kvb::SafeTensors st = kvb::SafeTensors::open(path);
  std::map<std::string, at::Tensor> out;
  for (const auto& t : st.tensors()) out[t.name] = st.get(t.name);
  return out;
}

}  // namespace

TEST(Organism, AStoppedRunResumesAsIfNeverStoppedAndPublishesTheAverage) {
  kvb::test::ScratchDir dir("kvb_organism_average_");
  auto run = [&](const std::string& name) {
    kvb::OrganismOptions o = small_run((dir.path / name).string());
    o.steps = 15;  // averaged from step 9 (ceil(0.55 * 15)): the stop at 11 falls inside the average
    o.average_from = 0.55, o.average_decay = 0.7;
    o.save_every = 100;  // saved only where it stops and at the end
    return o;
  };
  kvb::train_organism(run("whole"));
  kvb::OrganismOptions first = run("stopped");
  first.stop_after = 11;
  kvb::train_organism(first);
  EXPECT_EQ(kvb::read_json_file(first.out_dir + "/train_state.json").at("step"), 11);
  EXPECT_EQ(kvb::read_json_file(first.out_dir + "/train_log.json")["loss"].size(), 11u);
  kvb::train_organism(run("stopped"));

  // One thread, same stream: the losses and weights agree to rounding. A resume that restarted
  // AdamW's moments or the average moves them by far more (~1e-2).
  const nlohmann::json whole = kvb::read_json_file((dir.path / "whole" / "train_log.json").string())["loss"];
  const nlohmann::json resumed = kvb::read_json_file((dir.path / "stopped" / "train_log.json").string())["loss"];
  ASSERT_EQ(resumed.size(), whole.size());
  for (size_t i = 0; i < whole.size(); ++i)
    EXPECT_NEAR(resumed[i][1].get<double>(), whole[i][1].get<double>(), 1e-5 * whole[i][1].get<double>()) << "step " << i + 1;
  const auto w = all_tensors((dir.path / "whole" / "train_weights.safetensors").string());
  const auto r = all_tensors((dir.path / "stopped" / "train_weights.safetensors").string());
  ASSERT_EQ(w.size(), r.size());
  size_t averages = 0;
  for (const auto& [name, t] : w) {
    averages += name.rfind("average.", 0) == 0;
    const double diff = (r.at(name) - t).abs().max().item<double>();
    EXPECT_LE(diff, 1e-5 * std::max(1.0, t.abs().max().item<double>())) << name << " differs by " << diff;
  }
  EXPECT_EQ(2 * averages, w.size()) << "an average for every weight buffer";
  // The progress line's running loss goes on from the stop: it ends where the whole run's does.
  const auto smoothed = [&](const char* name) {
    return kvb::read_json_file((dir.path / name / "train_state.json").string()).at("smoothed_loss");
  };
  EXPECT_NEAR(smoothed("stopped")["all"].get<double>(), smoothed("whole")["all"].get<double>(), 1e-5 * smoothed("whole")["all"].get<double>());
  EXPECT_EQ(smoothed("stopped")["by_task"].size(), smoothed("whole")["by_task"].size());

  // The checkpoint is the average in bfloat16, not the last step's weights.
  const auto family = kvb::Registry<kvb::ModelFamily>::instance().create("qwen2_5_vl", nlohmann::json::object());
  const auto bb = family->load((dir.path / "whole").string(), nlohmann::json::object(), at::TensorOptions().dtype(at::kFloat));
  const std::vector<at::Tensor> published = bb->weight_buffers();
  ASSERT_EQ(published.size(), averages);
  double off_average = 0, off_last = 0;
  for (size_t i = 0; i < published.size(); ++i) {
    const at::Tensor avg = w.at("average." + std::to_string(i)).to(at::kBFloat16).to(at::kFloat);
    const at::Tensor last = w.at("param." + std::to_string(i)).to(at::kBFloat16).to(at::kFloat);
    off_average = std::max(off_average, (published[i] - avg).abs().max().item<double>());
    off_last = std::max(off_last, (published[i] - last).abs().max().item<double>());
  }
  EXPECT_EQ(off_average, 0.0);
  EXPECT_GT(off_last, 1e-3) << "the published weights are the last step's, not the average";
}
