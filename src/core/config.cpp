#include "core/config.h"

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/json_parse.h"
#include "core/param_recorder.h"
#include "core/registry.h"

namespace kvb {

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
  return out.empty() ? "(none)" : out;
}

ConfigReader::ConfigReader(const json& j, std::string component)
    : j_(j), component_(std::move(component)) {
  if (!j_.is_null() && !j_.is_object())
    throw UsageError(fmt::format("{}: config must be a JSON object, got {}", component_, j_.dump()));
}

void ConfigReader::type_error(const char* key, const char* expected, const json& v) const {
  throw UsageError(fmt::format("{}: key '{}' must be {}, got {}", component_, key, expected, v.dump()));
}

const json* ConfigReader::find(const char* key, const char* expected) {
  accepted_.insert(key);
  std::string type = expected;  // "a number" -> "number"
  ParamRecorder::note(key, type.substr(type.find(' ') == std::string::npos ? 0 : type.find(' ') + 1));
  if (!j_.is_object()) return nullptr;
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

ConfigReader& ConfigReader::get(const char* key, bool& out) {
  ParamRecorder::note_default(key, out);
  if (auto* v = find(key, "a boolean")) {
    if (!v->is_boolean()) type_error(key, "a boolean", *v);
    out = v->get<bool>();
  }
  return *this;
}

ConfigReader& ConfigReader::get(const char* key, int64_t& out) {
  ParamRecorder::note_default(key, out);
  if (auto* v = find(key, "an integer")) {
    if (!v->is_number_integer()) type_error(key, "an integer", *v);
    out = v->get<int64_t>();
  }
  return *this;
}

ConfigReader& ConfigReader::get(const char* key, int& out) {
  int64_t x = out;
  get(key, x);
  out = static_cast<int>(x);
  return *this;
}

ConfigReader& ConfigReader::get(const char* key, double& out) {
  ParamRecorder::note_default(key, out);
  if (auto* v = find(key, "a number")) {
    if (!v->is_number()) type_error(key, "a number", *v);
    out = v->get<double>();
  }
  return *this;
}

ConfigReader& ConfigReader::get(const char* key, std::string& out) {
  ParamRecorder::note_default(key, out);
  if (auto* v = find(key, "a string")) {
    if (!v->is_string()) type_error(key, "a string", *v);
    out = v->get<std::string>();
  }
  return *this;
}

template <class T, class Pred>
static void read_list(const json* v, std::vector<T>& out, Pred ok, const char* key, const char* expected,
                      const ConfigReader& r) {
  if (!v) return;
  auto fail = [&] {
    throw UsageError(fmt::format("{}: key '{}' must be {}, got {}", r.component(), key, expected, v->dump()));
  };
  if (!v->is_array()) {  // a scalar is accepted as a one-element list
    if (!ok(*v)) fail();
    out = {v->get<T>()};
    return;
  }
  out.clear();
  for (const auto& e : *v) {
    if (!ok(e)) fail();
    out.push_back(e.get<T>());
  }
}

ConfigReader& ConfigReader::get(const char* key, std::vector<double>& out) {
  ParamRecorder::note_default(key, out);
  read_list(find(key, "a list of numbers"), out, [](const json& e) { return e.is_number(); }, key, "a list of numbers", *this);
  return *this;
}
ConfigReader& ConfigReader::get(const char* key, std::vector<int64_t>& out) {
  ParamRecorder::note_default(key, out);
  read_list(find(key, "a list of integers"), out, [](const json& e) { return e.is_number_integer(); }, key,
            "a list of integers", *this);
  return *this;
}
ConfigReader& ConfigReader::get(const char* key, std::vector<std::string>& out) {
  ParamRecorder::note_default(key, out);
  read_list(find(key, "a list of strings"), out, [](const json& e) { return e.is_string(); }, key, "a list of strings", *this);
  return *this;
}
ConfigReader& ConfigReader::get(const char* key, json& out) {
  ParamRecorder::note_default(key, out);
  if (auto* v = find(key, "any JSON")) out = *v;
  return *this;
}

ConfigReader& ConfigReader::get_choice(const char* key, std::string& out, const std::vector<std::string>& choices) {
  get(key, out);
  ParamRecorder::note_choices(key, choices);
  for (const auto& c : choices)
    if (c == out) return *this;
  throw UsageError(fmt::format("{}: key '{}' is '{}', accepted values: {}", component_, key, out, join_names(choices)));
}

void ConfigReader::finish() const {
  if (!j_.is_object()) return;
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (accepted_.count(it.key())) continue;
    std::vector<std::string> keys(accepted_.begin(), accepted_.end());
    throw UsageError(fmt::format("{}: unknown key '{}'; accepted keys: {}", component_, it.key(), join_names(keys)));
  }
}

void apply_overrides(json& target, const std::vector<std::string>& sets, const std::string& what) {
  for (const auto& s : sets) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(fmt::format("{}: --set '{}' must look like key=value", what, s));
    std::string key = s.substr(0, eq), raw = s.substr(eq + 1);
    json value;
    try {
      value = parse_json(raw);
    } catch (const json::parse_error&) {  // not JSON: the text itself
      value = raw;
    }
    json* node = &target;
    std::stringstream ks(key);
    std::string part;
    std::vector<std::string> parts;
    while (std::getline(ks, part, '.')) parts.push_back(part);
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& p = parts[i];
      bool last = i + 1 == parts.size();
      if (node->is_array()) {
        size_t idx = 0;
        try {
          idx = std::stoul(p);
        } catch (...) {
          throw UsageError(fmt::format("{}: --set '{}': '{}' is not an array index", what, s, p));
        }
        if (idx >= node->size())
          throw UsageError(fmt::format("{}: --set '{}': index {} out of range (size {})", what, s, idx, node->size()));
        node = &(*node)[idx];
      } else {
        if (node->is_null()) *node = json::object();
        if (!node->is_object())
          throw UsageError(fmt::format("{}: --set '{}': '{}' is not an object", what, s, p));
        node = &(*node)[p];
      }
      if (last) *node = value;
    }
  }
}

json read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  try {
    return parse_json(in);
  } catch (const json::parse_error& e) {
    throw Error(fmt::format("{}: invalid JSON: {}", path, e.what()));
  }
}

}  // namespace kvb
