// Test-only registrations for the experiment machinery: a benchmark whose aggregate is the plain
// textbook mean (so tables can be checked by hand) and a method with two parameters.
#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"
#include "eval/benchmark.h"

namespace kvb {
namespace {

// Samples s0..s{n-1}, group g1..g{groups}; the answer of sample i is "a{i % 3}".
class TestMean : public Benchmark {
 public:
  explicit TestMean(const json& cfg) {
    ConfigReader(cfg, "benchmark 'test_mean'").get("n", n_).get("groups", groups_).get("token_groups", token_groups_).finish();
  }
  void set_tokenizer(TokenCodec codec) override { codec_ = std::move(codec); }
  std::vector<Sample> load(const std::string&) const override {
    std::vector<Sample> out;
    for (int64_t i = 0; i < n_; ++i) {
      Sample s;
      s.id = fmt::format("s{}", i);
      const std::string question = fmt::format("question {}", i);
      // token_groups: the group is the question's length in the model's tokens (the runner
      // must have attached the model's tokenizer).
      s.group = token_groups_ ? fmt::format("tok{}", codec_.encode(question).size()) : fmt::format("g{}", i % groups_ + 1);
      s.messages = {{"user", {text_segment(question)}}};
      s.answer = fmt::format("a{}", i % 3);
      out.push_back(std::move(s));
    }
    return out;
  }
  SampleScore score(const Sample& s, const std::string& prediction) const override {
    return {prediction == s.answer ? 1.0 : 0.0, prediction};
  }
  // overall = 100 * mean over samples; groups = 100 * mean within each group.
  json aggregate(const std::vector<ScoredRecord>& records) const override {
    std::map<std::string, std::pair<double, int64_t>> per;
    double sum = 0;
    int64_t n = 0;
    for (const auto& r : records) {
      if (r.failed) continue;
      per[r.group].first += r.score, ++per[r.group].second;
      sum += r.score, ++n;
    }
    json groups = json::object();
    for (const auto& [g, a] : per) groups[g] = 100.0 * a.first / static_cast<double>(a.second);
    json out = {{"groups", groups}, {"n", n}};
    if (n) out["overall"] = 100.0 * sum / static_cast<double>(n);
    return out;
  }
  json params() const override { return {{"n", n_}, {"groups", groups_}, {"token_groups", token_groups_}}; }

 private:
  int64_t n_ = 4, groups_ = 2;
  bool token_groups_ = false;
  TokenCodec codec_;
};

class TestTopk : public CompressionMethod {
 public:
  explicit TestTopk(const json& cfg) {
    ConfigReader(cfg, "method 'test_topk'").get("gamma", gamma_).get("window", window_).finish();
  }
  KeepPlan compress(const LayerKV& layer, const PrefillInfo&, int64_t budget) override {
    const int64_t h = layer.keys.size(0), t = layer.keys.size(1);
    return {at::arange(t - budget, t, at::kLong).unsqueeze(0).expand({h, budget}).contiguous(), {}, {}, {}};
  }
  json params() const override { return {{"gamma", gamma_}, {"window", window_}}; }

 private:
  double gamma_ = 0.2;
  int64_t window_ = 8;
};

}  // namespace
KVB_REGISTER(Benchmark, TestMean, "test_mean", "test only: plain-mean benchmark");
KVB_REGISTER(CompressionMethod, TestTopk, "test_topk", "test only: keeps the last tokens");
}  // namespace kvb
