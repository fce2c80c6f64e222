#pragma once
// Reading a component's Config from JSON with strict keys: an unknown key or a wrong type is
// an error naming the key, the component and the accepted keys.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace kvb {

using json = nlohmann::json;

class ConfigReader {
 public:
  // `component` names the thing in errors, e.g. "method 'snapkv'" or "configs/x.json: methods[2]".
  ConfigReader(const json& j, std::string component);

  // Each reads `key` into `out` when present (out keeps its default otherwise).
  ConfigReader& get(const char* key, bool& out);
  ConfigReader& get(const char* key, int& out);
  ConfigReader& get(const char* key, int64_t& out);
  ConfigReader& get(const char* key, double& out);
  ConfigReader& get(const char* key, std::string& out);
  ConfigReader& get(const char* key, std::vector<double>& out);
  ConfigReader& get(const char* key, std::vector<int64_t>& out);
  ConfigReader& get(const char* key, std::vector<std::string>& out);
  ConfigReader& get(const char* key, json& out);  // any JSON value, unchecked
  // A string restricted to `choices`.
  ConfigReader& get_choice(const char* key, std::string& out, const std::vector<std::string>& choices);

  // Throws UsageError if the JSON held keys that no get() asked for.
  void finish() const;

  const std::string& component() const { return component_; }

 private:
  const json* find(const char* key, const char* expected);
  [[noreturn]] void type_error(const char* key, const char* expected, const json& v) const;

  const json& j_;
  std::string component_;
  std::set<std::string> accepted_;
};

// Applies `key=value` overrides (dotted keys reach into objects, `a.0.b` into arrays). The
// value is parsed as JSON when it parses, else taken as a string.
void apply_overrides(json& target, const std::vector<std::string>& sets, const std::string& what);

// Reads a JSON file; errors name the file and the parse position.
json read_json_file(const std::string& path);

}  // namespace kvb
