#include "models/qwen2_5_vl/weights.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/safetensors.h"
#include "models/weight_reader.h"

namespace kvb::qwen {

std::vector<TensorSpec> tensor_specs(const Config& c) {
  using I = TensorSpec::Init;
  const auto& t = c.text;
  const auto& v = c.vision;
  std::vector<TensorSpec> s;
  auto lin = [&](const std::string& n, int64_t out, int64_t in) { s.push_back({n, {out, in}, I::Linear, in}); };
  auto vec = [&](const std::string& n, int64_t size, I init) { s.push_back({n, {size}, init, 1}); };

  append_text_decoder_specs(s, text_decoder_spec(c), t.hidden_size, t.intermediate_size, t.vocab_size, "model.",
                            "lm_head.weight");

  const int64_t E = v.hidden_size;
  s.push_back({"visual.patch_embed.proj.weight", {E, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size},
               I::Linear, v.in_channels * v.temporal_patch_size * v.patch_size * v.patch_size});
  for (int64_t b = 0; b < v.depth; ++b) {
    const std::string p = fmt::format("visual.blocks.{}.", b);
    vec(p + "norm1.weight", E, I::Norm);
    vec(p + "norm2.weight", E, I::Norm);
    lin(p + "attn.qkv.weight", 3 * E, E);
    vec(p + "attn.qkv.bias", 3 * E, I::Bias);
    lin(p + "attn.proj.weight", E, E);
    vec(p + "attn.proj.bias", E, I::Bias);
    lin(p + "mlp.gate_proj.weight", v.intermediate_size, E);
    vec(p + "mlp.gate_proj.bias", v.intermediate_size, I::Bias);
    lin(p + "mlp.up_proj.weight", v.intermediate_size, E);
    vec(p + "mlp.up_proj.bias", v.intermediate_size, I::Bias);
    lin(p + "mlp.down_proj.weight", E, v.intermediate_size);
    vec(p + "mlp.down_proj.bias", E, I::Bias);
  }
  const int64_t M = E * v.spatial_merge_size * v.spatial_merge_size;
  vec("visual.merger.ln_q.weight", E, I::Norm);
  lin("visual.merger.mlp.0.weight", M, M);
  vec("visual.merger.mlp.0.bias", M, I::Bias);
  lin("visual.merger.mlp.2.weight", v.out_hidden_size, M);
  vec("visual.merger.mlp.2.bias", v.out_hidden_size, I::Bias);
  return s;
}

namespace {

// 1 + the largest l of any tensor named <prefix><l>.* (0 when none).
int64_t count_indexed(const SafeTensors& st, const std::vector<std::string>& prefixes) {
  int64_t n = 0;
  for (const auto& t : st.tensors())
    for (const auto& p : prefixes)
      if (t.name.compare(0, p.size(), p) == 0) {
        const auto dot = t.name.find('.', p.size());
        const std::string digits = t.name.substr(p.size(), dot - p.size());
        if (!digits.empty() && digits.size() < 10 && digits.find_first_not_of("0123456789") == std::string::npos)
          n = std::max<int64_t>(n, std::stoll(digits) + 1);
      }
  return n;
}

// Names newer transformers versions save for a published name.
std::vector<std::string> aliases(const std::string& name) {
  std::vector<std::string> out{name};
  if (name.rfind("model.", 0) == 0) out.push_back("model.language_model." + name.substr(6));
  if (name.rfind("visual.", 0) == 0) out.push_back("model." + name);
  return out;
}

}  // namespace

Weights load_weights(const std::string& dir, const Config& c, const at::TensorOptions& opts) {
  const SafeTensors st = SafeTensors::open(dir);
  // Counts first: tensor_specs() lists every layer's names, so num_hidden_layers = 2^40 would
  // exhaust memory before the first missing tensor is noticed.
  for (auto [key, want, prefixes] :
       {std::tuple{"num_hidden_layers", c.text.num_hidden_layers,
                   std::vector<std::string>{"model.layers.", "model.language_model.layers."}},
        {"vision_config.depth", c.vision.depth, std::vector<std::string>{"visual.blocks.", "model.visual.blocks."}}}) {
    const int64_t have = count_indexed(st, prefixes);
    KVB_CHECK(have == want, "{}/config.json: {} is {}, but {} holds {} of them", dir, key, want, st.path(), have);
  }
  std::vector<std::pair<std::string, std::string>> names;  // (published name, name in the file)
  std::set<std::string> used;
  for (const auto& spec : tensor_specs(c)) {
    std::string found;
    for (const auto& a : aliases(spec.name))
      if (st.has(a)) {
        found = a;
        break;
      }
    KVB_CHECK(!found.empty(), "{}: tensor '{}' is missing (expected shape [{}] from config.json)", st.path(), spec.name,
              fmt::join(spec.shape, ", "));
    const auto& info = st.info(found);
    KVB_CHECK(info.shape == spec.shape, "{}: tensor '{}' has shape [{}], expected [{}] from config.json",
              st.file_of(found), found, fmt::join(info.shape, ", "), fmt::join(spec.shape, ", "));
    names.emplace_back(spec.name, found);
    used.insert(found);
  }
  // A tensor the config does not describe would be silently left out of the forward.
  for (const auto& info : st.tensors())
    KVB_CHECK(used.count(info.name), "{}: unexpected tensor '{}' (not part of the model config.json describes)",
              st.file_of(info.name), info.name);
  // Each weight is streamed from the file straight into its final buffer at the target dtype and
  // device, fused projections included, so loading never holds the files and the weights at once.
  WeightReader read(st, opts, std::map<std::string, std::string>(names.begin(), names.end()));
  Weights w;
  read.record_views(&w.published);
  w.text = read_text_decoder(read, text_decoder_spec(c), "model.", "lm_head.weight");
  const at::Tensor pw = read({"visual.patch_embed.proj.weight"});
  w.patch_w = pw.reshape({pw.size(0), -1});
  for (int64_t b = 0; b < c.vision.depth; ++b) {
    auto n = [&](const std::string& s) { return fmt::format("visual.blocks.{}.{}", b, s); };
    VisionBlock vb;
    vb.norm1 = read({n("norm1.weight")});
    vb.norm2 = read({n("norm2.weight")});
    vb.qkv_w = read({n("attn.qkv.weight")});
    vb.qkv_b = read({n("attn.qkv.bias")});
    vb.proj_w = read({n("attn.proj.weight")});
    vb.proj_b = read({n("attn.proj.bias")});
    vb.gate_up_w = read({n("mlp.gate_proj.weight"), n("mlp.up_proj.weight")});
    vb.gate_up_b = read({n("mlp.gate_proj.bias"), n("mlp.up_proj.bias")});
    vb.down_w = read({n("mlp.down_proj.weight")});
    vb.down_b = read({n("mlp.down_proj.bias")});
    w.blocks.push_back(std::move(vb));
  }
  w.merger_norm = read({"visual.merger.ln_q.weight"});
  w.merger_fc1_w = read({"visual.merger.mlp.0.weight"});
  w.merger_fc1_b = read({"visual.merger.mlp.0.bias"});
  w.merger_fc2_w = read({"visual.merger.mlp.2.weight"});
  w.merger_fc2_b = read({"visual.merger.mlp.2.bias"});
  return w;
}

std::vector<at::Tensor> Weights::buffers() const {
  std::vector<at::Tensor> out{text.embed};
  if (!text.lm_head.is_same(text.embed)) out.push_back(text.lm_head);
  out.push_back(text.final_norm);
  for (const auto& l : text.layers)
    for (const auto* t : {&l.qkv_w, &l.qkv_b, &l.o_w, &l.gate_up_w, &l.down_w, &l.input_norm, &l.post_norm}) out.push_back(*t);
  out.push_back(patch_w);
  for (const auto& b : blocks)
    for (const auto* t : {&b.norm1, &b.norm2, &b.qkv_w, &b.qkv_b, &b.proj_w, &b.proj_b, &b.gate_up_w, &b.gate_up_b,
                          &b.down_w, &b.down_b})
      out.push_back(*t);
  for (const auto* t : {&merger_norm, &merger_fc1_w, &merger_fc1_b, &merger_fc2_w, &merger_fc2_b}) out.push_back(*t);
  return out;
}

}  // namespace kvb::qwen
