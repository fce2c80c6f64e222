#pragma once
// Running a compression method outside the engine: on a KV dump (`kvbench compress`) or on
// synthetic tensors (`kvbench bench-compress`, tests). Computes what the method's Needs ask
// for from the stored queries; budgets and plans are compression_step's (compress/plan.h), as in
// generation.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "compress/kv_dump.h"
#include "compress/plan.h"

namespace kvb {

// Fills window queries, attention mass and summaries that `method` needs from the stored
// queries; errors (naming `source` and the method) when the queries are missing or too few.
void prepare_needs(OfflinePrefill& p, const CompressionMethod& method, const std::string& method_name,
                   const std::string& source);

// {"method","ratio","params","budgets","layers":[{"layer":l,"keep":[[..] per kv head]}]}
nlohmann::json plans_to_json(const CompressionOutcome& out, const CompressionMethod& method,
                             const std::string& method_name, double ratio);

}  // namespace kvb
