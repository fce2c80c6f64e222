#pragma once
// The generation API the experiment runner, the benchmarks and the CLI call: load a model
// folder once, then run prompts through prefill -> compression -> decode (or continuation
// scoring). Family-specific code (Qwen2.5-VL, LLaVA, ...) sits behind `Model`; the engine
// that drives the KV cache and the compression method is shared by every family.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "compress/method.h"
#include "core/prompt.h"

namespace kvb {

struct GenerationOptions {
  int64_t max_new_tokens = 32;
  // Non-empty: no generation; the log-likelihood of each continuation given the (compressed)
  // prompt is returned in `continuation_logprobs` (V*-style likelihood scoring).
  std::vector<std::string> continuations;
  // Retention ratio rho: uniform per-layer per-head budget B = max(1, round(rho * T)).
  double ratio = 1.0;
  // Extra stop token ids on top of the model's EOS ids (generation_config / config.json).
  std::vector<int64_t> stop_ids;
  // Fill `first_token_logprobs` ([vocab]) with the log-softmax of the first step that reads the
  // compressed cache: the prediction after the greedy first token (itself predicted by the
  // uncompressed prefill, hence the same for every method). Costs one extra forward when
  // decoding stops before that step or continuations are scored.
  bool return_first_logprobs = false;
  // Fill `prompt_ids` (the expanded prompt token ids) in the result.
  bool return_prompt_ids = false;
};

struct GenerationResult {
  std::string text;               // decoded answer, special tokens skipped
  std::vector<int64_t> ids;       // generated ids (stop token excluded)
  std::string stop_reason;        // "eos" | "length" | "scored" (continuations)
  int64_t prompt_tokens = 0;      // T, the prefill length after media expansion
  int64_t media_tokens = 0;       // image + video tokens among them
  double vision_ms = 0, prefill_ms = 0, compress_ms = 0;
  std::vector<double> decode_ms;  // one per decoding step
  int64_t kv_bytes_before = 0, kv_bytes_after = 0;  // what the cache really holds
  int64_t kept_tokens = 0;        // summed over layers and kv heads, after compression
  std::vector<int64_t> layer_budgets;           // per-head budget of each layer
  std::vector<double> continuation_logprobs;    // one per options.continuations
  std::vector<int64_t> continuation_tokens;     // token count of each continuation
  std::vector<float> first_token_logprobs;      // with options.return_first_logprobs
  std::vector<int64_t> prompt_ids;              // with options.return_prompt_ids
};

// What `kvbench dump-kv` writes: one prefill's post-RoPE K/V per layer, the last `queries`
// queries, and the per-token modality, exactly what a compression method sees.
struct PrefillCapture {
  PrefillInfo info;
  std::vector<LayerKV> layers;
  at::Tensor input_ids;  // [T] int64
  at::Tensor last_logits;  // [V] float32: the prefill's prediction at the last prompt position
};

class Model {
 public:
  virtual ~Model() = default;
  virtual GenerationResult generate(const std::vector<Message>& messages, const GenerationOptions& options,
                                    CompressionMethod& method) = 0;
  // Prefill only; computes what `needs` asks (window queries, attention mass) for every layer.
  virtual PrefillCapture capture_prefill(const std::vector<Message>& messages, const Needs& needs) = 0;
  virtual ModelGeometry geometry() const = 0;
  virtual std::string family() const = 0;
  // The model's text tokenizer (no special tokens added; decoding skips them), e.g. for a
  // benchmark's TokenCodec.
  // Defaults throw, so test doubles need not implement them.
  virtual std::vector<int64_t> encode_text(const std::string& text) const {
    (void)text;
    throw std::logic_error(family() + " model: no tokenizer");
  }
  virtual std::string decode_text(const std::vector<int64_t>& ids) const {
    (void)ids;
    throw std::logic_error(family() + " model: no tokenizer");
  }
  // For run.json: folder, family, dtype, device, the resolved load options.
  virtual nlohmann::json describe() const = 0;
};

// Loads a Hugging Face model folder; the family is picked from config.json's model_type.
// options (all optional): "dtype": "float32"|"bfloat16"|"float16" (default float32 on CPU,
// bfloat16 on CUDA), "device": "cpu"|"cuda"|"cuda:N", "prefill_chunk": tokens per prefill
// chunk (default 2048; 0 = one shot), plus family keys (qwen2_5_vl: "min_pixels",
// "max_pixels" overriding preprocessor_config.json, "video": {"fps", "nframes", "min_frames",
// "max_frames", "min_pixels", "max_pixels", "total_pixels"}). Unknown keys are errors.
std::unique_ptr<Model> load_model(const std::string& dir, const nlohmann::json& options = nlohmann::json::object());

// "cpu", "cuda" or "cuda:N", checked against this build and machine (UsageError / Error).
at::Device parse_device(const std::string& text);

}  // namespace kvb
