#include "train/organism.h"

#include <ATen/ATen.h>
#include <spdlog/spdlog.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>

#include "core/config.h"
#include "core/error.h"
#include "core/interrupt.h"
#include "core/progress.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "core/strings.h"
#include "core/timer.h"
#include "engine/engine.h"
#include "eval/benchmark.h"
#include "models/model.h"
#include "models/random_checkpoint.h"
#include "train/position_stretch.h"

namespace kvb {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFamily = "qwen2_5_vl";
constexpr int64_t kChunk = 64;  // training samples drawn per benchmark load

// One conversation with its answers in place for teacher forcing: position rows[j] predicts
// targets[j], the tokens of every assistant turn and its end-of-turn token. A quiz sample's
// earlier answers are supervised too: one forward pass teaches several retrievals.
struct Example {
  at::Tensor embeddings, positions;  // [n, H], [R, n]
  at::Tensor ids, modality;          // [n] the ids and their Modality
  at::Tensor targets;                // [m] int64
  std::vector<int64_t> rows;         // [m]
  int64_t last_answer = 0;           // the first target of the final answer (the scored one)
  std::string group;
};

// The token ids that open an assistant turn in the family's chat template.
std::vector<int64_t> assistant_opener(const Backbone& bb) {
  std::vector<int64_t> opener = bb.encode_text("assistant\n");
  const std::vector<int64_t> start = bb.encode_text("<|im_start|>");
  KVB_CHECK(start.size() == 1, "train-organism: the tokenizer has no <|im_start|> token");
  opener.insert(opener.begin(), start[0]);
  return opener;
}

// The family renders the answer as a closed assistant turn (then an open one, which is not
// supervised): the answer sits exactly where generation would write it. `opener`:
// assistant_opener(bb).
Example build_example(Backbone& bb, const Sample& s, int64_t eos, const std::vector<int64_t>& opener) {
  std::vector<Message> messages = s.messages;
  messages.push_back({"assistant", {text_segment(s.meta.value("reply", s.answer))}});
  PreparedPrompt p = bb.prepare(messages);
  const at::Tensor ids_cpu = p.ids.cpu();
  const int64_t* id = ids_cpu.data_ptr<int64_t>();
  const auto n = ids_cpu.size(0), k = static_cast<int64_t>(opener.size());
  Example e;
  std::vector<int64_t> targets;
  for (int64_t i = 0; i + k < n; ++i) {
    if (!std::equal(opener.begin(), opener.end(), id + i)) continue;
    int64_t j = i + k;
    e.last_answer = static_cast<int64_t>(targets.size());
    for (; j < n && id[j] != eos; ++j) targets.push_back(id[j]), e.rows.push_back(j - 1);
    KVB_CHECK(j < n, "train-organism: sample {}: an assistant turn without its end-of-turn token", s.id);
    targets.push_back(eos), e.rows.push_back(j - 1);
  }
  KVB_CHECK(!targets.empty(), "train-organism: sample {}: no assistant turn found in the rendered prompt", s.id);
  e.embeddings = p.embeddings;
  e.positions = p.positions;
  e.targets = at::tensor(targets, at::kLong).to(bb.options().device());
  e.ids = p.ids;
  e.modality = p.modality;
  e.group = s.group;
  return e;
}

// Causal attention of one sequence, GQA as HF's repeat_kv: q head h reads kv head h / (Hq/Hkv).
at::Tensor causal_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  const int64_t hq = q.size(0), n = q.size(1), d = q.size(2), g = hq / k.size(0);
  const at::Tensor kk = k.repeat_interleave(g, 0), vv = v.repeat_interleave(g, 0);
  const at::Tensor future = at::ones({n, n}, q.options().dtype(at::kBool)).triu(1);
  const at::Tensor s = at::matmul(q, kk.transpose(1, 2)).mul(1.0 / std::sqrt(static_cast<double>(d)))
                           .masked_fill(future, -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(s, -1), vv).transpose(0, 1).reshape({n, hq * d});
}

// Logits [sum m, V] at every target position of a batch, the sequences packed along the token
// axis (linear layers see one matrix; attention runs per sequence). With `all`, also the logits
// of every position (for the next-token loss over the whole prompt).
at::Tensor target_logits(Backbone& bb, const std::vector<Example>& batch, at::Tensor* all = nullptr) {
  std::vector<at::Tensor> embs, poss;
  std::vector<int64_t> rows;
  int64_t offset = 0;
  for (const auto& e : batch) {
    embs.push_back(e.embeddings);
    poss.push_back(e.positions);
    for (const int64_t r : e.rows) rows.push_back(offset + r);
    offset += e.embeddings.size(0);
  }
  at::Tensor h = at::cat(embs);
  const at::Tensor rope = bb.rope(at::cat(poss, 1));
  for (int64_t l = 0; l < bb.geometry().layers; ++l) {
    at::Tensor q, k, v;
    bb.project_qkv(l, h, rope, q, k, v);
    std::vector<at::Tensor> parts;
    int64_t at_token = 0;
    for (const auto& e : batch) {
      const int64_t n = e.embeddings.size(0);
      parts.push_back(causal_attention(q.narrow(1, at_token, n), k.narrow(1, at_token, n), v.narrow(1, at_token, n)));
      at_token += n;
    }
    h = bb.finish_layer(l, h, at::cat(parts));
  }
  const at::Tensor at_rows = at::tensor(rows, at::kLong).to(h.device());
  if (all) {
    *all = bb.lm_head(bb.final_norm(h));
    return all->index_select(0, at_rows);
  }
  return bb.lm_head(bb.final_norm(h.index_select(0, at_rows)));
}

// Per-position next-token targets of a batch, packed as the logits are: `fill` writes one
// example's (n - 1 positions; -100 = ignored), and answer positions, which the answer loss
// covers, are always ignored.
template <typename Fill>
at::Tensor packed_targets(const std::vector<Example>& batch, Fill fill) {
  std::vector<at::Tensor> parts;
  for (const auto& e : batch) {
    at::Tensor t = at::full({e.embeddings.size(0)}, -100, at::kLong);
    fill(e, t);
    t.index_fill_(0, at::tensor(e.rows, at::kLong), -100);
    parts.push_back(t);
  }
  return at::cat(parts).to(batch.at(0).embeddings.device());
}

// Every text token of the prompt (not media tokens).
at::Tensor prompt_targets(const std::vector<Example>& batch) {
  return packed_targets(batch, [](const Example& e, at::Tensor& t) {
    const int64_t n = t.size(0);
    t.narrow(0, 0, n - 1).copy_(e.ids.narrow(0, 1, n - 1).masked_fill(e.modality.narrow(0, 1, n - 1).ne(kText), -100).cpu());
  });
}

// Positions whose next token can be copied from the context: the `span` tokens before it were
// followed by that same token earlier in the sequence. These are the in-context induction events
// (mostly inside repeated filler sentences); the copy loss sums over them, so the retrieval every
// task needs gets hundreds of training events per sample instead of the few answers.
at::Tensor copy_targets(const std::vector<Example>& batch, int64_t span = 6) {
  return packed_targets(batch, [span](const Example& e, at::Tensor& t) {
    const at::Tensor ids = e.ids.cpu().contiguous(), modality = e.modality.cpu().contiguous();
    const int64_t* id = ids.data_ptr<int64_t>();
    const uint8_t* mod = modality.data_ptr<uint8_t>();
    int64_t* out = t.data_ptr<int64_t>();
    std::map<std::vector<int64_t>, int64_t> seen;  // span tokens -> the token that followed them
    for (int64_t i = span; i < ids.size(0); ++i) {
      if (mod[i] != kText) continue;
      std::vector<int64_t> key(id + i - span, id + i);
      const auto it = seen.find(key);
      if (it != seen.end() && it->second == id[i]) out[i - 1] = id[i];
      seen[std::move(key)] = id[i];
    }
  });
}

// `bb` (when given) counts the haystack lengths in its tokens.
std::unique_ptr<Benchmark> needle(const nlohmann::json& tasks, int64_t seed, int64_t samples, Backbone* bb) {
  nlohmann::json cfg = tasks;
  cfg["seed"] = seed;
  cfg["samples"] = samples;
  auto b = Registry<Benchmark>::instance().create("needle", cfg);
  if (bb)
    b->set_tokenizer({[bb](const std::string& t) { return bb->encode_text(t); },
                      [bb](const std::vector<int64_t>& ids) { return bb->decode(ids); }});
  return b;
}

}  // namespace

std::vector<std::string> organism_tokenizer_corpus(const OrganismOptions& o) {
  std::vector<std::string> corpus;
  for (const nlohmann::json* tasks : {&o.train_tasks, &o.eval_tasks})
    for (const Sample& s : needle(*tasks, 3000000, 64, nullptr)->load("")) {
      for (const Message& m : s.messages)
        for (const Segment& seg : m.content)
          if (seg.kind == Segment::Kind::Text) corpus.push_back(seg.text);
      corpus.push_back(s.meta.value("reply", s.answer));
    }
  return corpus;
}

namespace {

// Percent of held-out samples per group whose whole answer (and end of turn) is the argmax at
// every teacher-forced step: exactly the samples greedy decoding answers exactly.
nlohmann::json held_out_accuracy(Backbone& bb, const std::vector<Sample>& samples, int64_t eos,
                                 const std::vector<int64_t>& opener) {
  at::NoGradGuard no_grad;
  std::map<std::string, std::pair<int64_t, int64_t>> tally;  // group -> (right, total)
  for (const auto& s : samples) {
    const Example e = build_example(bb, s, eos, opener);
    const int64_t m = e.targets.size(0) - e.last_answer;
    const bool right = target_logits(bb, {e}).argmax(-1).narrow(0, e.last_answer, m).equal(e.targets.narrow(0, e.last_answer, m));
    auto& [r, n] = tally[e.group];
    r += right, ++n;
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [g, rn] : tally) out[g] = 100.0 * static_cast<double>(rn.first) / static_cast<double>(rn.second);
  return out;
}

// torch::nn::utils::clip_grad_norm_ without the C++ frontend's module headers.
void clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().norm());
  if (norms.empty()) return;
  const double total = at::stack(norms).norm().item<double>();
  if (total > max_norm)
    for (const auto& p : params)
      if (p.grad().defined()) p.mutable_grad().mul_(max_norm / (total + 1e-6));
}

void write_file(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    KVB_CHECK(f && (f << text), "cannot write {}", tmp.string());
  }
  fs::rename(tmp, path);
}

// The weights in the published layout and dtype (bfloat16), written next to the old shards and
// then moved over them, so an interruption leaves the previous checkpoint whole.
void save_checkpoint(const Backbone& bb, const fs::path& out) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, t] : bb.checkpoint_tensors()) tensors.emplace_back(name, t.detach().to(at::kBFloat16).contiguous());
  const fs::path tmp = out / ".saving";
  fs::create_directories(tmp);
  write_sharded(tmp.string(), tensors);
  for (const auto& f : fs::directory_iterator(tmp)) fs::rename(f.path(), out / f.path().filename());
  fs::remove(tmp);
}

nlohmann::json settings_of(const OrganismOptions& o) {
  nlohmann::json s = {{"seed", o.seed}, {"steps", o.steps}, {"batch", o.batch}, {"lr", o.lr}, {"warmup", o.warmup},
          {"weight_decay", o.weight_decay}, {"prompt_loss", o.prompt_loss}, {"copy_loss", o.copy_loss}, {"merges", o.merges}, {"curriculum_tokens", o.curriculum_tokens},
          {"curriculum_hold", o.curriculum_hold}, {"curriculum_full", o.curriculum_full}, {"stretch_positions", o.stretch_positions},
          {"average_from", o.average_from}, {"average_decay", o.average_decay}, {"task_stages", o.task_stages}, {"train_tasks", o.train_tasks}, {"eval_tasks", o.eval_tasks}};
  if (o.layers > 0) s["layers"] = o.layers;  // absent at the default, as runs before the option recorded it
  return s;
}

double lr_at(const OrganismOptions& o, int64_t step) {
  if (step < o.warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup);
  const double t = static_cast<double>(step - o.warmup) / static_cast<double>(std::max<int64_t>(1, o.steps - o.warmup));
  return o.lr * (0.1 + 0.45 * (1.0 + std::cos(M_PI * std::min(1.0, t))));
}

void plot_curves(const fs::path& out, const nlohmann::json& log) {
  std::string loss, acc;
  for (const auto& e : log["loss"]) loss += fmt::format("{} {}\n", e[0].get<int64_t>(), e[1].get<double>());
  std::vector<std::string> groups;
  for (const auto& e : log["eval"]) {
    if (groups.empty())
      for (const auto& [g, _] : e["accuracy"].items()) groups.push_back(g);
    acc += std::to_string(e["step"].get<int64_t>());
    for (const auto& g : groups) acc += fmt::format(" {}", e["accuracy"].value(g, 0.0));
    acc += "\n";
  }
  // Written (and closed) before gnuplot reads them: an open stream's tail was still buffered.
  write_file(out / "train_loss.dat", loss);
  write_file(out / "train_accuracy.dat", acc);
  std::string gp = "set terminal pngcairo size 1000,420\nset output '" + (out / "train_curves.png").string() +
                   "'\nset multiplot layout 1,2\nset xlabel 'step'\nset xtics rotate by 45 right\nset ylabel 'loss (answer tokens)'\nset logscale y\n"
                   "plot '" + (out / "train_loss.dat").string() + "' using 1:2 with lines title 'training loss'\n"
                   "unset logscale y\nset ylabel 'held-out exact answers %'\nset yrange [0:105]\nset key bottom right\nplot ";
  for (size_t i = 0; i < groups.size(); ++i)
    gp += fmt::format("{}'{}' using 1:{} with linespoints title '{}'", i ? ", " : "", (out / "train_accuracy.dat").string(),
                      i + 2, groups[i]);
  gp += "\nunset multiplot\n";
  write_file(out / "train_curves.gp", gp);
  const std::string cmd = "gnuplot '" + (out / "train_curves.gp").string() + "'";
  if (std::system(cmd.c_str()) != 0) spdlog::warn("gnuplot failed on {}; the data files are kept", (out / "train_curves.gp").string());
}

}  // namespace

OrganismOptions default_organism_options() {
  OrganismOptions o;
  // Short answers (the code, a colour word): every supervised token is a retrieval. Two code
  // digits: one retrieval more per digit costs steps the CPU budget does not have.
  // The picture needle is the circle's colour: the one picture found by what it shows, asked in
  // the same words every time. The colour by label ("picture 3") stalled near 60 % however it was
  // trained: a lookup keyed by a word of the question is what this organism does not learn.
  const nlohmann::json common = {{"tasks", {"code", "shape", "majority"}}, {"asked_shapes", {"circle"}}, {"needle_in", "text"},
                                 {"images", 2}, {"image_size", 56}, {"picture_size", 56}, {"answers", "short"}, {"code_digits", 2}};
  o.train_tasks = common;
  // Haystacks of <= 60 tokens with stretched positions until 70 % of the steps, then up to 500.
  o.train_tasks.update({{"min_tokens", 50}, {"max_tokens", 500}, {"min_pictures", 2}, {"max_pictures", 6}});
  // One task after another: the code alone (~550 steps to learn), then the circle (the slowest:
  // seeing the shape), then the majority joins. (The quiz, three questions of one haystack, cost
  // more per step than its extra answers taught; common_shape first, to teach seeing shapes,
  // slowed the circle down.)
  // With the long haystacks (60 %) the majority gets two in five: at one in four it ended at 98 %
  // with seed 1, and at 90.7 % retrained under other rounding (300 held-out samples per task).
  // Between 30 % and 60 % the circle gets three in five: how far its slow loss fall has got by
  // the end is set by the circle samples seen, and at two in four a retrain under other rounding
  // ended 5 points below the run it repeated.
  o.task_stages = {{0.0, {"code"}},
                   {0.1, {"code", "shape", "shape", "shape"}},
                   {0.3, {"code", "majority", "shape", "shape", "shape"}},
                   {0.6, {"code", "majority", "majority", "shape", "shape"}}};
  o.eval_tasks = common;
  o.eval_tasks.update({{"min_tokens", 500}, {"max_tokens", 1500}, {"min_pictures", 3}, {"max_pictures", 5}});
  return o;
}

nlohmann::json train_organism(const OrganismOptions& o) {
  KVB_CHECK(!o.out_dir.empty(), "train-organism: --out is required");
  KVB_CHECK(o.steps > 0 && o.batch > 0 && o.eval_every > 0 && o.save_every > 0 && o.eval_samples > 0,
            "train-organism: steps, batch, eval_every, save_every and eval_samples must be positive");
  for (size_t i = 0; i < o.task_stages.size(); ++i)
    KVB_CHECK(o.task_stages[i].first >= 0 && o.task_stages[i].first < 1 && !o.task_stages[i].second.empty() &&
                  (i == 0 ? o.task_stages[i].first == 0 : o.task_stages[i].first > o.task_stages[i - 1].first),
              "train-organism: task stages need increasing fractions in [0, 1) starting at 0, each with tasks (stage {} of {})",
              i + 1, o.task_stages.size());
  KVB_CHECK(o.curriculum_hold >= 0 && o.curriculum_hold < o.curriculum_full && o.curriculum_full <= 1,
            "train-organism: need 0 <= curriculum hold < curriculum full <= 1 (got {} and {})", o.curriculum_hold,
            o.curriculum_full);
  KVB_CHECK(o.average_from >= 0 && o.average_from <= 1 && o.average_decay >= 0 && o.average_decay < 1,
            "train-organism: need 0 <= average from <= 1 and 0 <= average decay < 1 (got {} and {})", o.average_from,
            o.average_decay);
  const fs::path out(o.out_dir);
  const fs::path state_path = out / "train_state.json", log_path = out / "train_log.json";
  const nlohmann::json settings = settings_of(o);
  int64_t start = 0;
  // The progress line's running losses (overall, per task); kept in the state so that a resumed
  // run's line goes on from them instead of restarting from one batch.
  std::optional<double> smoothed;
  std::map<std::string, double> smoothed_by_group;
  nlohmann::json log = {{"settings", settings}, {"loss", nlohmann::json::array()}, {"eval", nlohmann::json::array()}};
  auto family = Registry<ModelFamily>::instance().create(kFamily, nlohmann::json::object());
  if (fs::exists(state_path)) {
    const nlohmann::json state = read_json_file(state_path.string());
    KVB_CHECK(state.value("settings", nlohmann::json()) == settings,
              "{}: an earlier run with other settings is in this folder (recorded {}, now {}); use another --out",
              state_path.string(), state.value("settings", nlohmann::json()).dump(), settings.dump());
    start = state.at("step").get<int64_t>();
    if (state.contains("smoothed_loss")) {
      smoothed = state["smoothed_loss"].at("all").get<double>();
      smoothed_by_group = state["smoothed_loss"].at("by_task").get<std::map<std::string, double>>();
    }
    log = read_json_file(log_path.string());
    spdlog::info("train-organism: resuming {} at step {}", o.out_dir, start);
  } else {
    nlohmann::json geometry = {{"geometry", "organism"}, {"layers", o.layers}};
    if (o.merges > 0) geometry.update({{"bpe_corpus", organism_tokenizer_corpus(o)}, {"bpe_merges", o.merges}});
    family->make_tiny(o.out_dir, o.seed, geometry);
  }
  const at::Device device = parse_device(o.device);
  std::unique_ptr<Backbone> bb =
      family->load(o.out_dir, nlohmann::json::object(), at::TensorOptions().dtype(at::kFloat).device(device));
  if (start == 0) {
    // The checkpoint maker's random init is for tests (embeddings of std 0.02, linears of std
    // 1/sqrt(fan_in), jittered norms and biases); training from it starts with token identity
    // drowned by each layer's output and with random sharp attention to unlearn. PyTorch's usual
    // init for a small transformer instead: unit embeddings, linears of std 1/sqrt(3 fan_in)
    // (nn.Linear's default), zero biases, unit norms, and the projections that write into the
    // residual stream further scaled by 1/sqrt(2 x layers).
    at::NoGradGuard no_grad;
    const double residual = 1.0 / std::sqrt(2.0 * static_cast<double>(bb->geometry().layers));
    for (auto& [name, t] : bb->checkpoint_tensors()) {
      if (ends_with(name, "embed_tokens.weight")) {
        t.mul_(50.0);
      } else if (ends_with(name, ".bias") && t.dim() == 1) {
        t.zero_();
      } else if (t.dim() == 1) {
        t.fill_(1.0);  // RMSNorm / LayerNorm weights
      } else if (name == "lm_head.weight") {
        // 0.02 -> nn.Linear's scale 1/sqrt(3 fan_in) (0.05 at the organism's hidden 128)
        t.mul_(2.5 * std::sqrt(128.0 / static_cast<double>(t.size(1))));
      } else {
        t.mul_(1.0 / std::sqrt(3.0));
        if (name.rfind("model.layers.", 0) == 0 && (ends_with(name, "o_proj.weight") || ends_with(name, "down_proj.weight")))
          t.mul_(residual);
      }
    }
  }
  std::vector<at::Tensor> params = bb->weight_buffers();
  for (auto& p : params) p.requires_grad_(true);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.lr).betas({0.9, 0.98}).weight_decay(o.weight_decay));
  // A run resumes from its float32 weights, their running average and AdamW's moments: the
  // checkpoint holds the average in bfloat16, and fresh moments take full-size steps where the
  // run took damped ones. (A finished run needs neither: the checkpoint is what it evaluates.)
  const fs::path weights_path = out / "train_weights.safetensors", optimizer_path = out / "train_optimizer.pt";
  const auto average_start = static_cast<int64_t>(std::ceil(o.average_from * static_cast<double>(o.steps)));
  std::vector<at::Tensor> average;  // empty until step average_start
  if (start > 0 && start < o.steps) {
    for (const auto& f : {weights_path, optimizer_path})
      KVB_CHECK(fs::exists(f), "{}: missing; this folder's run cannot go on as it would have", f.string());
    at::NoGradGuard no_grad;
    const SafeTensors st = SafeTensors::open(weights_path.string());
    for (size_t i = 0; i < params.size(); ++i) {
      params[i].copy_(st.get("param." + std::to_string(i)));
      if (st.has("average." + std::to_string(i))) average.push_back(st.get("average." + std::to_string(i)).to(params[i].device()));
    }
    torch::serialize::InputArchive archive;
    archive.load_from(optimizer_path.string());
    opt.load(archive);
  }
  const int64_t eos = bb->stop_ids().at(0);
  const std::vector<int64_t> opener = assistant_opener(*bb);

  // The needle cycles through its tasks, so this is eval_samples of each.
  const auto eval_task_count = static_cast<int64_t>(needle(o.eval_tasks, 2024, 1, nullptr)->params()["tasks"].size());
  const std::vector<Sample> held_out = needle(o.eval_tasks, 2024, eval_task_count * o.eval_samples, bb.get())->load("");
  log["held_out_samples"] = held_out.size();
  std::vector<Sample> pool;
  int64_t pool_chunk = -1;
  // Sample i of the stream is sample i % kChunk of chunk i / kChunk, whose seed is disjoint from
  // the evaluation seeds (< 1e6), so resuming at a step draws exactly what the first run would.
  auto sample = [&](int64_t i) -> const Sample& {
    const int64_t c = i / kChunk;
    if (c != pool_chunk) {
      // Curriculum (see OrganismOptions): the cap on haystack length of this chunk.
      nlohmann::json tasks = o.train_tasks;
      const double at_fraction = static_cast<double>(c * kChunk) / static_cast<double>(o.steps * o.batch);
      for (const auto& [from, list] : o.task_stages)
        if (at_fraction >= from) tasks["tasks"] = list;
      // The log says when each task list began (once: a resumed run redraws its chunk).
      if (!log.contains("stages") || log["stages"].back()["tasks"] != tasks["tasks"])
        log["stages"].push_back({{"step", c * kChunk / o.batch}, {"tasks", tasks["tasks"]}});
      const int64_t top = tasks.value("max_tokens", int64_t{600});
      if (o.curriculum_tokens > 0 && o.curriculum_tokens < top) {
        const double f = std::clamp((at_fraction - o.curriculum_hold) / (o.curriculum_full - o.curriculum_hold), 0.0, 1.0);
        tasks["max_tokens"] = o.curriculum_tokens + static_cast<int64_t>(f * static_cast<double>(top - o.curriculum_tokens));
        tasks["min_tokens"] = std::min(tasks.value("min_tokens", int64_t{50}), tasks["max_tokens"].get<int64_t>());
      }
      pool = needle(tasks, 1000000 + static_cast<int64_t>(o.seed) * 100000 + c, kChunk, bb.get())->load("");
      pool_chunk = c;
    }
    return pool[static_cast<size_t>(i % kChunk)];
  };

  // Runs fn with the averaged weights in the model's buffers (the raw ones when there is no
  // average yet), then puts the raw weights back.
  auto with_average = [&](const std::function<void()>& fn) {
    if (average.empty()) return fn();
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> raw;
    for (size_t i = 0; i < params.size(); ++i) raw.push_back(params[i].detach().clone()), params[i].copy_(average[i]);
    fn();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(raw[i]);
  };
  auto evaluate = [&](int64_t step) {
    with_average([&] {
      const nlohmann::json acc = held_out_accuracy(*bb, held_out, eos, opener);
      log["eval"].push_back({{"step", step}, {"accuracy", acc}, {"averaged", !average.empty()}});
      spdlog::info("train-organism: step {} held-out exact answers {}{}", step, acc.dump(), average.empty() ? "" : " (averaged weights)");
    });
  };
  auto save = [&](int64_t step) {
    // The weights, moments, log and the state naming their step are one save: a stop waits for it.
    const DeferInterrupts hold;
    with_average([&] { save_checkpoint(*bb, out); });
    std::vector<std::pair<std::string, at::Tensor>> weights;
    for (size_t i = 0; i < params.size(); ++i) weights.emplace_back("param." + std::to_string(i), params[i].detach());
    for (size_t i = 0; i < average.size(); ++i) weights.emplace_back("average." + std::to_string(i), average[i]);
    write_safetensors(weights_path.string(), weights);
    torch::serialize::OutputArchive archive;
    opt.save(archive);
    archive.save_to((out / ".train_optimizer.pt").string());
    fs::rename(out / ".train_optimizer.pt", optimizer_path);
    write_file(log_path, log.dump(1));
    nlohmann::json state = {{"settings", settings}, {"step", step}};
    if (smoothed) state["smoothed_loss"] = {{"all", *smoothed}, {"by_task", smoothed_by_group}};
    write_file(state_path, state.dump(2));
  };

  Progress progress("train-organism", o.steps, "steps");
  progress.resume_at(start);
  // The progress line's losses: exponential averages over ~20 steps, as one batch is noisy.
  const auto running_mean = [](double average, double x) { return 0.95 * average + 0.05 * x; };
  const int64_t end = o.stop_after > 0 ? std::min(o.stop_after, o.steps) : o.steps;
  for (int64_t step = start; step < end; ++step) {
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr_at(o, step));
    Timer phase;
    std::vector<Example> batch;
    for (int64_t b = 0; b < o.batch; ++b) {
      const int64_t i = step * o.batch + b;
      batch.push_back(build_example(*bb, sample(i), eos, opener));
      if (o.stretch_positions > 0)
        batch.back().positions = stretch_positions(batch.back().positions, batch.back().modality, o.stretch_positions,
                                                   static_cast<uint32_t>(o.seed * 7919 + static_cast<uint64_t>(i)));
    }
    const double t_prepare = phase.ms();
    if (step == start)
      for (const auto& e : batch) {
        const at::Tensor t = e.targets.cpu();
        spdlog::debug("train-organism: a {} sample supervises {}", e.group,
                      nlohmann::json(bb->decode(std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel()))).dump());
      }
    std::vector<at::Tensor> targets;
    int64_t tokens = 0;
    for (const auto& e : batch) targets.push_back(e.targets), tokens += e.embeddings.size(0);
    at::Tensor all;
    // Each sample counts by its answers' summed NLL: a colour word's spelling after its first
    // letter is free, so averaging over tokens would dilute the one choice that matters.
    const bool every_position = o.prompt_loss > 0 || o.copy_loss > 0;
    const at::Tensor per_token = at::cross_entropy_loss(target_logits(*bb, batch, every_position ? &all : nullptr),
                                                        at::cat(targets), {}, 0 /* no reduction */);
    std::vector<at::Tensor> per_sample;
    int64_t from = 0;
    for (const auto& e : batch) per_sample.push_back(per_token.narrow(0, from, e.targets.size(0)).sum()), from += e.targets.size(0);
    at::Tensor loss = at::stack(per_sample).mean();
    const double answer_loss = loss.item<double>();
    // Per task as well: one mean hides a task that is not being learnt behind two that are.
    std::map<std::string, std::pair<double, int64_t>> by_group;
    for (size_t b = 0; b < batch.size(); ++b) {
      auto& [sum, n] = by_group[batch[b].group];
      sum += per_sample[b].item<double>(), ++n;
    }
    for (const auto& [g, sn] : by_group) {
      const double mean = sn.first / static_cast<double>(sn.second);
      auto [it, fresh] = smoothed_by_group.try_emplace(g, mean);
      if (!fresh) it->second = running_mean(it->second, mean);
    }
    if (o.prompt_loss > 0) loss = loss + o.prompt_loss * at::cross_entropy_loss(all, prompt_targets(batch), {}, 1, -100);
    if (o.copy_loss > 0 && all.defined())  // summed per sample, as the answers are
      loss = loss + o.copy_loss * at::cross_entropy_loss(all, copy_targets(batch), {}, 2, -100) / static_cast<double>(batch.size());
    const double t_forward = phase.ms();
    opt.zero_grad();
    loss.backward();
    spdlog::debug("train-organism: step {}: {} tokens; draw + prepare {:.0f} ms, forward {:.0f} ms, backward {:.0f} ms",
                  step + 1, tokens, t_prepare, t_forward - t_prepare, phase.ms() - t_forward);
    if (step == start) {
      // A weight the forward never reads (a copy made at load) would silently stay random.
      std::vector<std::string> idle;
      const auto named = bb->checkpoint_tensors();
      for (size_t i = 0; i < params.size(); ++i)
        if (!params[i].grad().defined() || params[i].grad().abs().max().item<double>() == 0) idle.push_back(std::to_string(i));
      if (!idle.empty()) spdlog::warn("train-organism: {} of {} weight buffers got no gradient (indices {})", idle.size(), params.size(), fmt::join(idle, ","));
    }
    clip_grad_norm(params, 1.0);
    opt.step();
    if (step + 1 >= average_start) {
      at::NoGradGuard no_grad;
      if (average.empty())
        for (const auto& p : params) average.push_back(p.detach().clone());
      else
        for (size_t i = 0; i < params.size(); ++i) average[i].mul_(o.average_decay).add_(params[i].detach(), 1.0 - o.average_decay);
    }
    smoothed = smoothed ? running_mean(*smoothed, answer_loss) : answer_loss;
    log["loss"].push_back({step + 1, answer_loss});
    std::string note = fmt::format("loss {:.4f} (", *smoothed);
    for (const auto& [g, avg] : smoothed_by_group) note += fmt::format("{}{} {:.3f}", note.back() == '(' ? "" : ", ", g, avg);
    progress.set_note(note + ")");
    progress.tick();
    const bool last = step + 1 == o.steps;
    if ((step + 1) % o.eval_every == 0 || last) evaluate(step + 1);
    if ((step + 1) % o.save_every == 0 || step + 1 == end) save(step + 1);  // end: the last step or --stop-after
  }
  progress.finish();
  if (end < o.steps) {
    spdlog::info("train-organism: stopped after step {} of {}; the same command without --stop-after goes on from there", end, o.steps);
    return log["eval"].empty() ? nlohmann::json::object() : log["eval"].back()["accuracy"];
  }
  if (start == o.steps && log["eval"].empty()) evaluate(o.steps);
  if (o.plot) plot_curves(out, log);
  return log["eval"].back()["accuracy"];
}

}  // namespace kvb
