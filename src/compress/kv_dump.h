#pragma once
// The KV-dump file, written by `kvbench dump-kv` (one real prefill) and read by `kvbench
// compress`: safetensors with layers.{l}.keys / layers.{l}.values [Hkv, T, D], optional
// layers.{l}.queries [Hq, Tq, D] (the last Tq post-RoPE queries), optional
// layers.{l}.attention_mass [Hq, T], optional modality [T] u8 and input_ids [T] i64.
// One module owns both directions, so what is written can always be read back.
#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "compress/method.h"

namespace kvb {

struct OfflinePrefill {
  PrefillInfo info;
  std::vector<LayerKV> layers;      // keys, values, and the stored attention mass if any
  std::vector<at::Tensor> queries;  // per layer [Hq, Tq, D] as stored, or undefined
  at::Tensor input_ids;             // [T] int64, or undefined
};

OfflinePrefill read_kv_file(const std::string& path);

// `layers`' window_queries are written as layers.{l}.queries; tokens, geometry and media spans
// join `metadata` (which names the model and prompt).
void write_kv_file(const std::string& path, const PrefillInfo& info, const std::vector<LayerKV>& layers,
                   const at::Tensor& input_ids, std::map<std::string, std::string> metadata);

}  // namespace kvb
