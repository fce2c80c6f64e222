#pragma once
// What every family's HF parity test needs from its goldens folder (tests/parity/<dir>/goldens):
// the manifest, the golden tensors in their stored dtype, the tiny checkpoint rebuilt by
// make-tiny-model and checked file by file against the manifest's sha256 (so a change to the
// maker cannot silently invalidate the goldens; removed at exit), models loaded once per dtype,
// the stated tolerance, and the per-case comparisons the families run alike.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "compress/method.h"
#include "core/config.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/model.h"
#include "parity/hf_greedy.h"
#include "parity/qwen/sha256.h"
#include "parity/tensor_compare.h"

namespace kvb::test {

// float32: the 1e-4 absolute. bfloat16: both sides round every activation to 8 mantissa
// bits, so differences of a few units in the last place of the largest value are rounding order,
// not bugs; stated relative to that scale.
inline double parity_tolerance(const std::string& dtype, const at::Tensor& want, double bf16_ulps) {
  if (dtype == "float32") return 1e-4;
  return bf16_ulps * bf16_ulp(want.abs().max().item<double>());
}

// A case of the goldens' manifest, run in one dtype.
struct ParityCase {
  std::string name, dtype;
};

// Each of `names` in float32 and in bfloat16.
inline std::vector<ParityCase> parity_cases(std::initializer_list<const char*> names) {
  std::vector<ParityCase> out;
  for (const char* name : names)
    for (const char* dtype : {"float32", "bfloat16"}) out.push_back({name, dtype});
  return out;
}

// The gtest name of a case: <name>_<dtype>.
inline std::string parity_case_name(const ::testing::TestParamInfo<ParityCase>& i) {
  return i.param.name + "_" + i.param.dtype;
}

class FamilyGoldens {
 public:
  FamilyGoldens(std::string family, const std::string& dir_name, int64_t prefill_chunk)
      : family_(std::move(family)),
        dir_(std::string(KVB_TEST_DATA) + "/parity/" + dir_name + "/goldens"),
        script_("tests/parity/" + dir_name + "/make_goldens.sh"),
        chunk_(prefill_chunk),
        manifest_(read_json_file(dir_ + "/goldens.json")),
        tensors_(SafeTensors::open(dir_ + "/goldens.safetensors")),
        tiny_(std::filesystem::temp_directory_path() / ("kvb_" + family_ + "_hf_parity_" + std::to_string(::getpid()))) {}
  ~FamilyGoldens() {
    std::error_code ec;
    std::filesystem::remove_all(tiny_, ec);
  }

  const std::string& dir() const { return dir_; }
  const nlohmann::json& manifest() const { return manifest_; }
  at::Tensor tensor(const std::string& name) const {
    return tensors_.get(name, scalar_type_of(tensors_.info(name).dtype));
  }

  const std::string& tiny_dir() {
    if (tiny_dir_.empty()) {
      const auto& ck = manifest_.at("checkpoint");
      Registry<ModelFamily>::instance()
          .create(family_, nlohmann::json::object())
          ->make_tiny(tiny_.string(), ck.at("seed").get<uint64_t>(), nlohmann::json::object());
      for (const auto& [file, sha] : ck.at("sha256").items()) {
        const std::string got = sha256_file((tiny_ / file).string());
        if (got != sha.get<std::string>())
          ADD_FAILURE() << "make-tiny-model --family " << family_ << " --seed " << ck.at("seed")
                        << " no longer writes the checkpoint the HF goldens were made from: " << file << " has sha256 "
                        << got << ", the goldens expect " << sha << ". Regenerate them: bash " << script_;
      }
      tiny_dir_ = tiny_.string();
    }
    return tiny_dir_;
  }

  Model& model(const std::string& dtype) {
    auto& m = models_[dtype];
    if (!m) m = load_model(tiny_dir(), {{"dtype", dtype}, {"prefill_chunk", chunk_}});
    return *m;
  }

  const nlohmann::json& case_meta(const std::string& name) const { return manifest_.at("cases").at(name); }

  // A media file or folder of the goldens, by its path in the manifest.
  MediaRef media(const std::string& file) const { return MediaRef{dir_ + "/" + file, {}, {}, 0, 0}; }

  // The manifest's chat messages: text, images and videos by file.
  std::vector<Message> chat_messages(const nlohmann::json& messages) const {
    std::vector<Message> out;
    for (const auto& jm : messages) {
      Message m{jm.at("role").get<std::string>(), {}};
      for (const auto& c : jm.at("content")) {
        const std::string type = c.at("type").get<std::string>();
        if (type == "text") m.content.push_back(text_segment(c.at("text").get<std::string>()));
        else if (type == "video") m.content.push_back(video_segment(media(c.at("file").get<std::string>())));
        else m.content.push_back(image_segment(media(c.at("file").get<std::string>())));
      }
      out.push_back(std::move(m));
    }
    return out;
  }

  // The case's prefill of `messages`: the token count, every layer's post-RoPE keys, values and
  // last queries, and the last logits, each within parity_tolerance(dtype, want, 4 bf16 ulps).
  void expect_prefill(const ParityCase& c, const std::vector<Message>& messages) {
    const std::string key = c.name + "." + c.dtype + ".";
    Needs needs;
    needs.window_queries = manifest_.at("last_queries").get<int64_t>();
    const PrefillCapture cap = model(c.dtype).capture_prefill(messages, needs);
    ASSERT_EQ(cap.input_ids.size(0), case_meta(c.name).at("tokens").get<int64_t>());
    for (const auto& lk : cap.layers) {
      const std::string l = std::to_string(lk.layer);
      for (const auto& [what, got] : {std::pair{"keys", lk.keys}, std::pair{"values", lk.values},
                                      std::pair{"queries", lk.window_queries}}) {
        const at::Tensor want = tensor(key + what + "." + l);
        expect_close(got, want, parity_tolerance(c.dtype, want, 4.0), key + what + " layer " + l,
                     {"head", "position", "dim"});
      }
    }
    const at::Tensor want = tensor(key + "last_logits");
    expect_close(cap.last_logits, want, parity_tolerance(c.dtype, want, 4.0), key + "last_logits", {"vocab id"});
  }

  // The greedy continuation of `messages` with the full cache, as many tokens as the goldens hold.
  GenerationResult greedy(const std::string& dtype, const std::vector<Message>& messages) {
    auto method = Registry<CompressionMethod>::instance().create("full", nlohmann::json::object());
    GenerationOptions opt;
    opt.max_new_tokens = manifest_.at("greedy_tokens").get<int64_t>();
    return model(dtype).generate(messages, opt, *method);
  }

  // greedy() held to the case's goldens by parity/hf_greedy.h's rule.
  void expect_hf_greedy_continuation(const ParityCase& c, const std::vector<Message>& messages, bool bf16_with_media) {
    const std::string key = c.name + "." + c.dtype + ".";
    const GenerationResult r = greedy(c.dtype, messages);
    expect_hf_greedy(r.ids, r.stop_reason == "eos", tensor(key + "greedy_tokens"), tensor(key + "greedy_margins"),
                     tensor(key + "greedy_uncached_argmax"), tensor(key + "last_logits"), bf16_with_media, key);
  }

 private:
  std::string family_, dir_, script_;
  int64_t chunk_;
  nlohmann::json manifest_;
  SafeTensors tensors_;
  std::filesystem::path tiny_;
  std::string tiny_dir_;
  std::map<std::string, std::unique_ptr<Model>> models_;
};

}  // namespace kvb::test
