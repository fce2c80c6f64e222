#pragma once
// Running a compression method outside the engine: on a KV dump (`kvbench compress`) or on
// synthetic tensors (`kvbench bench-compress`, tests). Computes what the method's Needs ask
// for from the stored queries, applies budgets, validates every plan.
#include <ATen/ATen.h>
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "compress/method.h"

namespace kvb {

struct OfflinePrefill {
  PrefillInfo info;
  std::vector<LayerKV> layers;
  std::vector<at::Tensor> queries;  // per layer [Hq, Tq, D] as stored, or undefined
};

// Reads a KV file: safetensors with layers.{l}.keys / layers.{l}.values [Hkv, T, D], optional
// layers.{l}.queries [Hq, Tq, D] (the last Tq queries) and optional modality [T] u8.
OfflinePrefill read_kv_file(const std::string& path);

// Fills window queries, attention mass and summaries that `method` needs from the stored
// queries; errors (naming `source` and the method) when the queries are missing or too few.
void prepare_needs(OfflinePrefill& p, const CompressionMethod& method, const std::string& method_name,
                   const std::string& source);

struct CompressionOutcome {
  int64_t uniform = 0;
  std::vector<int64_t> budgets;  // per layer, per head
  std::vector<KeepPlan> plans;
};

// Budgets for `ratio`, then every layer compressed; each plan is validated (ascending unique
// in-range indices, Hkv * budget tokens kept).
CompressionOutcome compress_all(CompressionMethod& method, const OfflinePrefill& p, double ratio,
                                const std::string& method_name);

// {"method","ratio","params","budgets","layers":[{"layer":l,"keep":[[..] per kv head]}]}
nlohmann::json plans_to_json(const CompressionOutcome& out, const CompressionMethod& method,
                             const std::string& method_name, double ratio);

}  // namespace kvb
