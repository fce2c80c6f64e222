#pragma once
// What the LLaVA families' checkpoint tests check alike: the published file set of a tiny
// checkpoint, its float16 tensors against the family's specs, and two prefills that must agree
// bit for bit (the same weights under either naming convention).
#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "core/safetensors.h"
#include "engine/engine.h"
#include "models/tensor_spec.h"

namespace kvb::test {

inline void expect_published_file_set(const std::filesystem::path& d) {
  for (const char* f : {"config.json", "generation_config.json", "preprocessor_config.json", "processor_config.json",
                        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                        "chat_template.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors"})
    EXPECT_TRUE(std::filesystem::exists(d / f)) << f;
}

// Every spec is in `st` as float16 with the spec's shape.
inline void expect_float16_specs(const SafeTensors& st, const std::vector<TensorSpec>& specs) {
  for (const auto& s : specs) {
    ASSERT_TRUE(st.has(s.name)) << s.name;
    EXPECT_EQ(st.info(s.name).dtype, "F16") << s.name;
    EXPECT_EQ(st.info(s.name).shape, s.shape) << s.name;
  }
}

inline void expect_same_prefill(const PrefillCapture& a, const PrefillCapture& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  for (size_t l = 0; l < a.layers.size(); ++l) {
    EXPECT_TRUE(a.layers[l].keys.equal(b.layers[l].keys)) << "layer " << l;
    EXPECT_TRUE(a.layers[l].values.equal(b.layers[l].values)) << "layer " << l;
  }
}

}  // namespace kvb::test
