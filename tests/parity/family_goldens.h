#pragma once
// What every family's HF parity test needs from its goldens folder (tests/parity/<dir>/goldens):
// the manifest, the golden tensors in their stored dtype, the tiny checkpoint rebuilt by
// make-tiny-model and checked file by file against the manifest's sha256 (so a change to the
// maker cannot silently invalidate the goldens; removed at exit), models loaded once per dtype,
// and the stated tolerance.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>

#include "core/config.h"
#include "core/registry.h"
#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/model.h"
#include "parity/qwen/sha256.h"
#include "parity/tensor_compare.h"

namespace kvb::test {

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

 private:
  std::string family_, dir_, script_;
  int64_t chunk_;
  nlohmann::json manifest_;
  SafeTensors tensors_;
  std::filesystem::path tiny_;
  std::string tiny_dir_;
  std::map<std::string, std::unique_ptr<Model>> models_;
};

// float32: the 1e-4 absolute. bfloat16: both sides round every activation to 8 mantissa
// bits, so differences of a few units in the last place of the largest value are rounding order,
// not bugs; stated relative to that scale.
inline double parity_tolerance(const std::string& dtype, const at::Tensor& want, double bf16_ulps) {
  if (dtype == "float32") return 1e-4;
  return bf16_ulps * bf16_ulp(want.abs().max().item<double>());
}

}  // namespace kvb::test
