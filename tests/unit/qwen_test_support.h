#pragma once
// Shared by the Qwen2.5-VL engine tests: one tiny checkpoint per test binary, a BMP encoder for
// synthetic images (decodable without any image library on our side), and a dense reference
// forward written from the textbook attention definition.
#include <ATen/ATen.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

#include <map>
#include <memory>

#include "core/registry.h"
#include "engine/engine.h"
#include "models/model.h"
#include "models/qwen2_5_vl/tiny_model.h"

namespace kvb::test {

// Models are loaded once per test binary and option set (loading parses the tokenizer).
inline Model& tiny_qwen_model(int64_t prefill_chunk);

// A scratch folder for this test process, removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Scratch {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("kvb_qwen_test_" + std::to_string(::getpid()));
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Scratch s;
  return s.path;
}

inline const std::string& tiny_qwen_dir() {
  static const std::string dir = [] {
    const auto d = scratch_dir() / "tiny";
    kvb::qwen::write_tiny_model(d.string(), 7);
    return d.string();
  }();
  return dir;
}

inline Model& tiny_qwen_model(int64_t prefill_chunk) {
  static std::map<int64_t, std::unique_ptr<Model>> models;
  auto& m = models[prefill_chunk];
  if (!m) m = load_model(tiny_qwen_dir(), {{"prefill_chunk", prefill_chunk}});
  return *m;
}

inline Backbone& tiny_qwen_backbone() {
  static std::unique_ptr<Backbone> bb = Registry<ModelFamily>::instance()
      .create("qwen2_5_vl", nlohmann::json::object())
      ->load(tiny_qwen_dir(), nlohmann::json::object(), at::TensorOptions().dtype(at::kFloat));
  return *bb;
}

// 24-bit BMP bytes of a w x h gradient image.
inline std::string bmp_bytes(int w, int h, int seed) {
  const int row = (w * 3 + 3) / 4 * 4;
  std::string data(static_cast<size_t>(row) * h, '\0');
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      char* p = &data[static_cast<size_t>(y) * row + x * 3];
      p[0] = static_cast<char>((x * 7 + y * 3 + seed) % 256), p[1] = static_cast<char>((x * x + y) % 256);
      p[2] = static_cast<char>((y * 5 + seed * 11) % 256);
    }
  auto u32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto u16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  std::string out = "BM" + u32(54 + data.size()) + u32(0) + u32(54) + u32(40) + u32(w) + u32(h) + u16(1) + u16(24) +
                    u32(0) + u32(data.size()) + u32(2835) + u32(2835) + u32(0) + u32(0);
  return out + data;
}

// softmax(q k^T / sqrt(D)) v with kv heads repeated for their q heads; allowed [Hkv, n, L].
inline at::Tensor dense_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  const at::Tensor& allowed) {
  const int64_t g = q.size(0) / k.size(0);
  const at::Tensor kk = k.repeat_interleave(g, 0), vv = v.repeat_interleave(g, 0);
  at::Tensor s = at::matmul(q, kk.transpose(1, 2)) / std::sqrt(static_cast<double>(q.size(2)));
  s = s.masked_fill(allowed.repeat_interleave(g, 0).logical_not(), -std::numeric_limits<float>::infinity());
  return at::matmul(at::softmax(s, -1), vv).transpose(0, 1).reshape({q.size(1), -1});
}

// Logits [N, V] of a full recompute over embeddings [N, H] at positions [3, N]. Queries at
// index >= prompt_len see prompt key j of layer l only where kept[l][h][j] (the compressed
// cache); prompt queries see every earlier prompt key (the uncompressed prefill).
// Only rows [from, N) go through the LM head (it dominates the cost at vocab 151936).
inline at::Tensor reference_logits(const Backbone& bb, const at::Tensor& emb, const at::Tensor& pos,
                                   int64_t prompt_len, const std::vector<at::Tensor>& kept, int64_t from) {
  const auto g = bb.geometry();
  const int64_t n = emb.size(0);
  at::Tensor causal = at::arange(n).unsqueeze(0) <= at::arange(n).unsqueeze(1);  // [n, n]
  causal = causal.unsqueeze(0).repeat({g.kv_heads, 1, 1});
  at::Tensor h = emb;
  const at::Tensor rope = bb.rope(pos);
  for (int64_t l = 0; l < g.layers; ++l) {
    at::Tensor allowed = causal.clone();
    if (!kept.empty())
      for (int64_t i = prompt_len; i < n; ++i)
        allowed.select(1, i).narrow(1, 0, prompt_len).logical_and_(kept[l]);
    at::Tensor q, k, v;
    bb.project_qkv(l, h, rope, q, k, v);
    h = bb.finish_layer(l, h, dense_attention(q, k, v, allowed));
  }
  return bb.lm_head(bb.final_norm(h.narrow(0, from, n - from)));
}

}  // namespace kvb::test
