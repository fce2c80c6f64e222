#include "compress/method_params.h"

#include "compress/method.h"
#include "core/param_recorder.h"
#include "core/registry.h"

namespace kvb {

nlohmann::json method_parameters(const std::string& method) {
  ParamRecorder recorder;
  Registry<CompressionMethod>::instance().create(method, nlohmann::json::object());
  nlohmann::json out = nlohmann::json::array();
  for (const ParamInfo& p : recorder.params()) {
    nlohmann::json d = {{"name", p.key}, {"type", p.type}, {"default", p.default_value}};
    if (!p.range.empty()) d["range"] = p.range;
    if (!p.choices.empty()) d["choices"] = p.choices;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace kvb
