// The shared generation engine: chunked prefill (layer by layer, so per-layer statistics for
// compression never pile up), the compression step, greedy decoding and continuation scoring.
#include "engine/engine.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "cache/kv_cache.h"
#include "compress/plan.h"
#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "core/timer.h"
#include "engine/attention.h"
#include "models/model.h"

namespace kvb {
namespace {

struct PrefillOut {
  std::vector<LayerKV> layers;
  at::Tensor last_logits;  // [V] float32
};

class Engine : public Model {
 public:
  Engine(std::unique_ptr<Backbone> bb, int64_t chunk, nlohmann::json desc)
      : bb_(std::move(bb)), chunk_(chunk), desc_(std::move(desc)) {}

  ModelGeometry geometry() const override { return bb_->geometry(); }
  std::string family() const override { return bb_->family(); }
  nlohmann::json describe() const override { return desc_; }
  std::vector<int64_t> encode_text(const std::string& text) const override { return bb_->encode_text(text); }
  std::string decode_text(const std::vector<int64_t>& ids) const override { return bb_->decode(ids); }

  PrefillCapture capture_prefill(const std::vector<Message>& messages, const Needs& needs) override {
    const PreparedPrompt p = bb_->prepare(messages);
    PrefillCapture cap;
    cap.info = info_of(p);
    PrefillOut pre = prefill(p, needs, nullptr, cap.info);
    cap.layers = std::move(pre.layers);
    cap.last_logits = pre.last_logits;
    cap.input_ids = p.ids;
    return cap;
  }

  GenerationResult generate(const std::vector<Message>& messages, const GenerationOptions& opt,
                            CompressionMethod& method) override {
    GenerationResult r;
    const PreparedPrompt p = bb_->prepare(messages);
    const int64_t T = p.ids.size(0), L = geometry().layers;
    r.vision_ms = p.vision_ms;
    r.prompt_tokens = T;
    r.media_tokens = p.modality.defined() ? p.modality.ne(0).sum().item<int64_t>() : 0;
    if (opt.return_prompt_ids) r.prompt_ids = std::vector<int64_t>(p.ids.data_ptr<int64_t>(), p.ids.data_ptr<int64_t>() + T);
    const PrefillInfo info = info_of(p);

    Timer timer;
    PrefillOut pre = prefill(p, method.needs(), &method, info);
    r.prefill_ms = timer.ms();

    timer.reset();
    KvCache cache(L);
    for (int64_t l = 0; l < L; ++l) cache.set_prefill(l, pre.layers[l].keys, pre.layers[l].values);
    r.kv_bytes_before = cache.bytes();
    const CompressionOutcome step = compression_step(method, pre.layers, info, opt.ratio, "");
    r.layer_budgets = step.budgets;
    for (int64_t l = 0; l < L; ++l) cache.apply(l, step.plans[l]);
    pre.layers.clear();  // the prefill tensors are no longer needed; the cache holds what is kept
    r.kv_bytes_after = cache.bytes();
    r.kept_tokens = cache.kept_tokens();
    r.compress_ms = timer.ms();

    // The prefill logits predate compression, so they are the same for every method; the first
    // distribution that sees the compressed cache is the next step's, after the greedy first token.
    auto record_first = [&](const at::Tensor& logits) {
      const at::Tensor c = at::log_softmax(logits, -1).contiguous().cpu();
      r.first_token_logprobs.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    auto record_first_without_decoding = [&] {
      if (opt.return_first_logprobs && r.first_token_logprobs.empty())
        record_first(forward(pre.last_logits.argmax().view({1}).to(at::kLong), p.next_position, cache, false)[0]);
    };
    if (!opt.continuations.empty()) {
      record_first_without_decoding();
      score_continuations(opt.continuations, at::log_softmax(pre.last_logits, -1), p.next_position, cache, r);
      r.stop_reason = "scored";
      return r;
    }

    std::set<int64_t> stops;
    for (auto s : bb_->stop_ids()) stops.insert(s);
    for (auto s : opt.stop_ids) stops.insert(s);
    at::Tensor logits = pre.last_logits;
    int64_t position = p.next_position;
    r.stop_reason = "length";
    for (int64_t i = 0; i < opt.max_new_tokens; ++i) {
      const int64_t tok = logits.argmax().item<int64_t>();
      if (stops.count(tok)) {
        r.stop_reason = "eos";
        break;
      }
      r.ids.push_back(tok);
      if (i + 1 == opt.max_new_tokens) break;
      Timer step_timer;
      logits = forward(at::tensor({tok}, at::kLong), position++, cache, true)[0];
      r.decode_ms.push_back(step_timer.ms());
      if (i == 0 && opt.return_first_logprobs) record_first(logits);
    }
    record_first_without_decoding();
    r.text = bb_->decode(r.ids);
    return r;
  }

 private:
  PrefillInfo info_of(const PreparedPrompt& p) const {
    PrefillInfo info;
    info.geometry = geometry();
    info.tokens = p.ids.size(0);
    info.modality = p.modality;
    info.media = p.media;
    return info;
  }

  PrefillOut prefill(const PreparedPrompt& p, const Needs& needs, const CompressionMethod* method,
                     const PrefillInfo& info) {
    const ModelGeometry g = geometry();
    const int64_t T = p.ids.size(0), D = g.head_dim;
    KVB_CHECK(T > 0, "empty prompt");
    const int64_t chunk = chunk_ > 0 ? std::min(chunk_, T) : T;
    const int64_t W = std::min(needs.window_queries, T);
    const auto opts = bb_->options();
    std::vector<at::Tensor> ropes;
    for (int64_t s = 0; s < T; s += chunk) ropes.push_back(bb_->rope(p.positions.narrow(1, s, std::min(chunk, T - s))));

    at::Tensor h = p.embeddings.clone();
    PrefillOut out;
    for (int64_t l = 0; l < g.layers; ++l) {
      LayerKV lk;
      lk.layer = l;
      lk.keys = at::empty({g.kv_heads, T, D}, opts);
      lk.values = at::empty({g.kv_heads, T, D}, opts);
      if (W > 0) lk.window_queries = at::empty({g.q_heads, W, D}, opts);
      if (needs.prefill_attention) lk.attention_mass = at::zeros({g.q_heads, T}, opts.dtype(at::kFloat));
      at::Tensor all_q;
      if (needs.prefill_summary) all_q = at::empty({g.q_heads, T, D}, opts);
      for (int64_t s = 0, c = 0; s < T; s += chunk, ++c) {
        const int64_t n = std::min(chunk, T - s), e = s + n;
        at::Tensor q, k, v;
        bb_->project_qkv(l, h.narrow(0, s, n), ropes[c], q, k, v);
        lk.keys.narrow(1, s, n).copy_(k);
        lk.values.narrow(1, s, n).copy_(v);
        if (W > 0 && e > T - W) {
          const int64_t from = std::max(s, T - W);
          lk.window_queries.narrow(1, from - (T - W), e - from).copy_(q.narrow(1, from - s, e - from));
        }
        if (all_q.defined()) all_q.narrow(1, s, n).copy_(q);
        at::Tensor mass;
        if (lk.attention_mass.defined()) mass = lk.attention_mass.narrow(1, 0, e);
        const at::Tensor attn = gqa_attention(q, lk.keys.narrow(1, 0, e), lk.values.narrow(1, 0, e),
                                              causal_mask(s, n, e, h.device()), mass.defined() ? &mass : nullptr);
        h.narrow(0, s, n).copy_(bb_->finish_layer(l, h.narrow(0, s, n), attn));
      }
      if (all_q.defined() && method) lk.summary = method->summarize_prefill(lk, all_q, info);
      out.layers.push_back(std::move(lk));
    }
    out.last_logits = bb_->lm_head(bb_->final_norm(h.narrow(0, T - 1, 1)))[0].to(at::kFloat);
    return out;
  }

  // n tokens at positions [position, position + n) over the cache: appended to it (decoding,
  // n = 1) or only attending to it (continuation scoring). Returns float32 logits [n, V].
  at::Tensor forward(const at::Tensor& ids, int64_t position, KvCache& cache, bool append) {
    const int64_t n = ids.size(0), L = geometry().layers;
    KVB_CHECK(!append || n == 1, "decoding appends one token at a time");
    const auto dev = bb_->options().device();
    at::Tensor h = bb_->embed(ids.to(dev));
    const at::Tensor rope = bb_->rope(bb_->continue_positions(position, n));
    for (int64_t l = 0; l < L; ++l) {
      at::Tensor q, k, v;
      bb_->project_qkv(l, h, rope, q, k, v);
      at::Tensor keys, values, allowed;
      if (append) {
        cache.append(l, k, v);
        keys = cache.keys(l), values = cache.values(l);
        const at::Tensor valid = cache.valid_mask(l);
        if (valid.defined()) allowed = valid.unsqueeze(1);  // [Hkv, 1, L]
      } else {
        const at::Tensor ck = cache.keys(l), valid = cache.valid_mask(l);
        const int64_t lc = ck.size(1), hkv = ck.size(0);
        keys = at::cat({ck, k}, 1), values = at::cat({cache.values(l), v}, 1);
        const at::Tensor past = valid.defined() ? valid.unsqueeze(1).expand({hkv, n, lc})
                                                : at::ones({hkv, n, lc}, at::TensorOptions().dtype(at::kBool).device(dev));
        allowed = at::cat({past, causal_mask(0, n, n, dev).unsqueeze(0).expand({hkv, n, n})}, 2);
      }
      h = bb_->finish_layer(l, h, gqa_attention(q, keys, values, allowed));
    }
    return bb_->lm_head(bb_->final_norm(h)).to(at::kFloat);
  }

  void score_continuations(const std::vector<std::string>& conts, const at::Tensor& first, int64_t position,
                           KvCache& cache, GenerationResult& r) {
    for (const auto& c : conts) {
      const std::vector<int64_t> ids = bb_->encode_text(c);
      KVB_CHECK(!ids.empty(), "continuation '{}' has no tokens", c);
      double lp = first[ids[0]].item<double>();
      if (ids.size() > 1) {
        const at::Tensor t = at::tensor(ids, at::kLong);
        const at::Tensor logp = at::log_softmax(forward(t.narrow(0, 0, t.size(0) - 1), position, cache, false), -1);
        lp += logp.gather(1, t.narrow(0, 1, t.size(0) - 1).unsqueeze(1).to(logp.device())).sum().item<double>();
      }
      r.continuation_logprobs.push_back(lp);
      r.continuation_tokens.push_back(static_cast<int64_t>(ids.size()));
    }
  }

  std::unique_ptr<Backbone> bb_;
  int64_t chunk_;
  nlohmann::json desc_;
};

}  // namespace

// One line for a device this build or machine cannot use, instead of c10's dispatcher dump at
// the first tensor moved there.
at::Device parse_device(const std::string& text) {
  std::optional<at::Device> dev;
  try {
    dev = at::Device(text);
  } catch (const c10::Error&) {
  }
  if (!dev || !(dev->is_cpu() || dev->is_cuda()))
    throw UsageError(fmt::format("model options: device '{}' is not one of cpu, cuda, cuda:N", text));
  if (dev->is_cuda()) {
    KVB_CHECK(at::hasCUDA(), "model options: device '{}': CUDA is not available in this build", text);
    const auto n = static_cast<int64_t>(at::getNumGPUs());
    KVB_CHECK(dev->index() < n, "model options: device '{}': this machine has {} CUDA device(s)", text, n);
  }
  return *dev;
}

std::unique_ptr<Model> load_model(const std::string& dir, const nlohmann::json& options) {
  KVB_CHECK(options.is_object(), "model options must be a JSON object, got {}", options.dump());
  const nlohmann::json config = read_json_file(dir + "/config.json");
  const std::string type = config.value("model_type", std::string());
  KVB_CHECK(!type.empty(), "{}/config.json: field 'model_type' is missing", dir);
  const auto& reg = Registry<ModelFamily>::instance();
  std::unique_ptr<ModelFamily> family;
  std::vector<std::string> known;
  for (const auto& name : reg.names()) {
    auto f = reg.create(name, nlohmann::json::object());
    for (const auto& t : f->model_types()) known.push_back(t);
    const auto types = f->model_types();
    if (std::find(types.begin(), types.end(), type) != types.end()) family = std::move(f);
  }
  if (!family) throw UsageError(fmt::format("{}/config.json: model_type '{}' has no model family; known: {}", dir, type, join_names(known)));

  // The engine's own keys; the rest belong to the family.
  nlohmann::json engine_keys = nlohmann::json::object(), family_keys = nlohmann::json::object();
  for (const auto& [k, v] : options.items()) (k == "dtype" || k == "device" || k == "prefill_chunk" ? engine_keys : family_keys)[k] = v;
  std::string device = "cpu", dtype;
  int64_t chunk = 2048;
  ConfigReader rd(engine_keys, "model options");
  rd.get("device", device).get("dtype", dtype).get("prefill_chunk", chunk);
  rd.finish();
  if (chunk < 0) throw UsageError(fmt::format("model options: prefill_chunk must be >= 0 (0 = one shot), got {}", chunk));
  const at::Device dev = parse_device(device);
  if (dtype.empty()) dtype = dev.is_cuda() ? "bfloat16" : "float32";
  at::ScalarType st;
  if (dtype == "float32") st = at::kFloat;
  else if (dtype == "bfloat16") st = at::kBFloat16;
  else if (dtype == "float16") st = at::kHalf;
  else throw UsageError(fmt::format("model options: dtype '{}' is not one of float32, bfloat16, float16", dtype));
  Timer t;
  auto bb = family->load(dir, family_keys, at::TensorOptions().dtype(st).device(dev));
  spdlog::info("loaded {} model from {} in {:.0f} ms ({}, {})", bb->family(), dir, t.ms(), dtype, device);
  nlohmann::json desc = bb->describe();
  desc["dir"] = dir;
  desc["dtype"] = dtype;
  desc["device"] = device;
  desc["prefill_chunk"] = chunk;
  return std::make_unique<Engine>(std::move(bb), chunk, std::move(desc));
}

}  // namespace kvb
