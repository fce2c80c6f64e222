#pragma once
// What the ConfigReaders of this thread read while a ParamRecorder is alive: the keys, their
// expected types, defaults, ranges and choices. `kvbench list methods --json` builds each method from an
// empty config under a recorder, so a method documents its parameters by reading them, and the
// engine never needs to know a method's type.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kvb {

struct ParamInfo {
  std::string key, type, range;  // type: "number", "integer", "boolean", "string", "list of numbers", ...
  std::vector<std::string> choices;
  nlohmann::json default_value;  // what the reader's target held before reading: the default
};

class ParamRecorder {
 public:
  ParamRecorder();
  ~ParamRecorder();
  ParamRecorder(const ParamRecorder&) = delete;
  ParamRecorder& operator=(const ParamRecorder&) = delete;

  const std::vector<ParamInfo>& params() const { return params_; }

  // Called by ConfigReader and the range-checking helpers; no-ops without a live recorder.
  static void note(const std::string& key, const std::string& type);
  static void note_default(const std::string& key, const nlohmann::json& value);
  static void note_range(const std::string& key, const std::string& range);
  static void note_choices(const std::string& key, const std::vector<std::string>& choices);

 private:
  static ParamInfo* entry(const std::string& key);
  std::vector<ParamInfo> params_;
  ParamRecorder* outer_;
};

}  // namespace kvb
