// The engine against a dense full-recompute reference (textbook attention, written in
// tests/unit/qwen_test_support.h), on the tiny random Qwen2.5-VL checkpoint: chunked prefill,
// cached greedy decoding, decoding over a ragged compressed cache, continuation scoring.
#include <gtest/gtest.h>

#include <sstream>

#include "compress/method.h"
#include "core/registry.h"
#include "engine/engine.h"
#include "tests/unit/qwen_test_support.h"

namespace {

using kvb::test::tiny_qwen_dir;

std::string diff_report(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor d = (a.to(at::kDouble) - b.to(at::kDouble)).abs().flatten();
  std::ostringstream o;
  o << "max |diff| " << d.max().item<double>() << "; first mismatches:";
  const at::Tensor bad = (d > 1e-4 + 1e-4 * b.to(at::kDouble).abs().flatten()).nonzero().flatten();
  for (int64_t i = 0; i < std::min<int64_t>(bad.size(0), 5); ++i) {
    const int64_t j = bad[i].item<int64_t>();
    o << " [" << j << "] " << a.flatten()[j].item<double>() << " vs " << b.flatten()[j].item<double>();
  }
  return o.str();
}

void expect_close(const at::Tensor& ours, const at::Tensor& ref, const char* what) {
  ASSERT_EQ(ours.sizes(), ref.sizes()) << what;
  EXPECT_TRUE(at::allclose(ours.to(at::kDouble), ref.to(at::kDouble), 1e-4, 1e-5)) << what << ": " << diff_report(ours, ref);
}

std::vector<kvb::Message> text_prompt(int words) {
  std::string t;
  for (int i = 0; i < words; ++i) t += (i % 3 ? " token" : " word") + std::to_string(i * 7 % 13);
  return {{"user", {kvb::text_segment(t)}}};
}

std::vector<kvb::Message> image_prompt() {
  kvb::MediaRef img{"", kvb::test::bmp_bytes(97, 213, 3), "synthetic 97x213"};
  return {{"user", {kvb::image_segment(img), kvb::text_segment("What is in the picture?")}}};
}


// Keeps a seeded random subset per kv head; heads 2i and 2i+1 keep budget + 1 and budget - 1
// tokens (the total of a uniform budget, AdaKV-style), so the cache is ragged. Records what it
// kept for the reference.
class RaggedKeep : public kvb::CompressionMethod {
 public:
  kvb::KeepPlan compress(const kvb::LayerKV& layer, const kvb::PrefillInfo&, int64_t budget) override {
    const int64_t H = layer.keys.size(0), T = layer.keys.size(1);
    at::Tensor keep = at::zeros({H, budget + 1}, at::kLong), lengths = at::empty({H}, at::kLong);
    at::Tensor mask = at::zeros({H, T}, at::kBool);
    for (int64_t h = 0; h < H; ++h) {
      const int64_t n = budget + (h % 2 == 1 ? -1 : (h + 1 < H ? 1 : 0));
      const at::Tensor idx = std::get<0>(at::randperm(T, gen_, at::kLong).narrow(0, 0, n).sort());
      keep[h].narrow(0, 0, n).copy_(idx);
      lengths[h] = n;
      mask[h].index_fill_(0, idx, true);
    }
    kept.push_back(mask);
    return {keep, lengths, {}, {}};
  }
  nlohmann::json params() const override { return nlohmann::json::object(); }
  std::vector<at::Tensor> kept;

 private:
  at::Generator gen_ = at::detail::createCPUGenerator(11);
};

// Logits of the first step that reads the compressed cache: after the greedy first token.
at::Tensor reference_first_step(const kvb::Backbone& bb, const kvb::PreparedPrompt& p, const std::vector<at::Tensor>& kept) {
  const int64_t T = p.ids.size(0);
  const int64_t tok = kvb::test::reference_logits(bb, p.embeddings, p.positions, T, kept, T - 1)[0].argmax().item<int64_t>();
  const at::Tensor emb = at::cat({p.embeddings, bb.embed(at::tensor({tok}, at::kLong))});
  const at::Tensor pos = at::cat({p.positions, bb.continue_positions(p.next_position, 1)}, 1);
  return kvb::test::reference_logits(bb, emb, pos, T, kept, T)[0];
}

// Greedy ids of the reference: full recompute at every step.
std::vector<int64_t> reference_greedy(const kvb::Backbone& bb, const kvb::PreparedPrompt& p, int64_t steps,
                                      const std::vector<at::Tensor>& kept, at::Tensor* first_logits) {
  at::Tensor emb = p.embeddings, pos = p.positions;
  const int64_t T = p.ids.size(0);
  const auto stops = bb.stop_ids();
  std::vector<int64_t> ids;
  if (first_logits) *first_logits = reference_first_step(bb, p, kept);
  for (int64_t s = 0; s < steps; ++s) {
    const at::Tensor logits = kvb::test::reference_logits(bb, emb, pos, T, kept, emb.size(0) - 1);
    const int64_t tok = logits[-1].argmax().item<int64_t>();
    if (std::find(stops.begin(), stops.end(), tok) != stops.end()) break;
    ids.push_back(tok);
    emb = at::cat({emb, bb.embed(at::tensor({tok}, at::kLong))});
    pos = at::cat({pos, bb.continue_positions(p.next_position + s, 1)}, 1);
  }
  return ids;
}

TEST(QwenEngine, ChunkedPrefillMatchesOneShot) {
  auto& one = kvb::test::tiny_qwen_model(0);
  auto& chunked = kvb::test::tiny_qwen_model(7);
  kvb::Needs needs;
  needs.window_queries = 9;
  needs.prefill_attention = true;
  const auto msgs = text_prompt(31);
  const auto a = one.capture_prefill(msgs, needs), b = chunked.capture_prefill(msgs, needs);
  const int64_t T = a.info.tokens;
  ASSERT_GT(T, 50);
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    expect_close(b.layers[l].keys, a.layers[l].keys, "keys");
    expect_close(b.layers[l].values, a.layers[l].values, "values");
    expect_close(b.layers[l].window_queries, a.layers[l].window_queries, "window queries");
    expect_close(b.layers[l].attention_mass, a.layers[l].attention_mass, "attention mass");
    // Each query's probabilities sum to one: a head's column sums add up to T.
    expect_close(a.layers[l].attention_mass.sum(1), at::full({a.layers[l].attention_mass.size(0)}, double(T)),
                 "attention mass total");
  }
}

TEST(QwenEngine, WindowQueriesAreTheLastQueries) {
  auto& model = kvb::test::tiny_qwen_model(5);
  kvb::Needs needs;
  needs.window_queries = 6;
  const auto cap = model.capture_prefill(text_prompt(9), needs);
  auto* bb = &kvb::test::tiny_qwen_backbone();
  const auto p = bb->prepare(text_prompt(9));
  const int64_t T = p.ids.size(0);
  ASSERT_TRUE(cap.input_ids.equal(p.ids));
  // Layer 0 queries straight from the embeddings: the last 6 rows.
  at::Tensor q, k, v;
  bb->project_qkv(0, p.embeddings, bb->rope(p.positions), q, k, v);
  expect_close(cap.layers[0].window_queries, q.narrow(1, T - 6, 6), "layer-0 window queries");
  expect_close(cap.layers[0].keys, k, "layer-0 keys");
}

void check_decode(const std::vector<kvb::Message>& msgs, double ratio, bool ragged) {
  auto* model = &kvb::test::tiny_qwen_model(16);
  auto* bb = &kvb::test::tiny_qwen_backbone();
  RaggedKeep ragged_method;
  auto full = kvb::Registry<kvb::CompressionMethod>::instance().create("full", nlohmann::json::object());
  kvb::CompressionMethod& method = ragged ? static_cast<kvb::CompressionMethod&>(ragged_method) : *full;
  kvb::GenerationOptions opt;
  opt.max_new_tokens = 16;
  opt.ratio = ratio;
  opt.return_first_logprobs = true;
  const auto r = model->generate(msgs, opt, method);
  const auto p = bb->prepare(msgs);
  at::Tensor first;
  const auto ref = reference_greedy(*bb, p, 16, ragged ? ragged_method.kept : std::vector<at::Tensor>{}, &first);
  EXPECT_EQ(r.ids, ref);
  expect_close(at::tensor(r.first_token_logprobs), at::log_softmax(first, -1), "first-step log-probs");
  EXPECT_EQ(r.prompt_tokens, p.ids.size(0));
  const auto g = model->geometry();
  EXPECT_EQ(r.kv_bytes_before, g.layers * g.kv_heads * r.prompt_tokens * g.head_dim * 2 * 4);
  if (ragged) {
    int64_t kept = 0;
    for (const auto& m : ragged_method.kept) kept += m.sum().item<int64_t>();
    EXPECT_EQ(r.kept_tokens, kept);
    EXPECT_EQ(r.kv_bytes_after, kept * g.head_dim * 2 * 4);
  }
}

TEST(QwenEngine, GreedyDecodeMatchesFullRecomputeText) { check_decode(text_prompt(13), 1.0, false); }
TEST(QwenEngine, GreedyDecodeMatchesFullRecomputeImage) { check_decode(image_prompt(), 1.0, false); }
TEST(QwenEngine, RaggedCompressedDecodeMatchesMaskedRecompute) { check_decode(text_prompt(23), 0.4, true); }

TEST(QwenEngine, ContinuationLogprobsMatchRecompute) {
  auto* model = &kvb::test::tiny_qwen_model(0);
  auto* bb = &kvb::test::tiny_qwen_backbone();
  RaggedKeep method;
  kvb::GenerationOptions opt;
  opt.ratio = 0.5;
  opt.continuations = {" yes", " no, it is a cat", "B"};
  opt.return_first_logprobs = true;
  const auto msgs = text_prompt(17);
  const auto r = model->generate(msgs, opt, method);
  ASSERT_EQ(r.continuation_logprobs.size(), 3u);
  const auto p = bb->prepare(msgs);
  const int64_t T = p.ids.size(0);
  expect_close(at::tensor(r.first_token_logprobs), at::log_softmax(reference_first_step(*bb, p, method.kept), -1),
               "first-step log-probs over the compressed cache");
  for (size_t c = 0; c < opt.continuations.size(); ++c) {
    const std::vector<int64_t> ids = bb->encode_text(opt.continuations[c]);
    const at::Tensor t = at::tensor(ids, at::kLong);
    const int64_t n = t.size(0);
    const at::Tensor emb = at::cat({p.embeddings, bb->embed(t)});
    const at::Tensor pos = at::cat({p.positions, bb->continue_positions(p.next_position, n)}, 1);
    const at::Tensor logp = at::log_softmax(kvb::test::reference_logits(*bb, emb, pos, T, method.kept, T - 1), -1);
    // Token i of the continuation is predicted at index T - 1 + i.
    const double ref = logp.narrow(0, 0, n).gather(1, t.unsqueeze(1)).sum().item<double>();
    EXPECT_NEAR(r.continuation_logprobs[c], ref, 1e-4 * std::max(1.0, std::abs(ref))) << opt.continuations[c];
    EXPECT_EQ(r.continuation_tokens[c], n);
  }
}

}  // namespace
