#pragma once
// A registered method's parameters as `kvbench list methods --json` prints them: name, type,
// default, range and choices, learned by building the method from an empty config under a
// ParamRecorder, never by asking its type.
#include <nlohmann/json.hpp>

#include <string>

namespace kvb {

nlohmann::json method_parameters(const std::string& method);

}  // namespace kvb
