#pragma once
// Registry<Base>: name -> factory(json config). Components register from their own .cpp with
// KVB_REGISTER; each Base names its kind with `static constexpr const char* kKind`.
#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace kvb {

std::string join_names(const std::vector<std::string>& names);

template <class Base>
class Registry {
 public:
  using Factory = std::function<std::unique_ptr<Base>(const nlohmann::json&)>;
  struct Entry {
    Factory factory;
    std::string summary;
  };

  static Registry& instance() {
    static Registry r;
    return r;
  }

  bool add(const std::string& name, Factory f, std::string summary = {}) {
    KVB_CHECK(!entries_.count(name), "{} '{}' registered twice", Base::kKind, name);
    entries_[name] = Entry{std::move(f), std::move(summary)};
    return true;
  }

  bool has(const std::string& name) const { return entries_.count(name) > 0; }

  std::unique_ptr<Base> create(const std::string& name, const nlohmann::json& config) const {
    auto it = entries_.find(name);
    if (it == entries_.end())
      throw UsageError(fmt::format("unknown {} '{}'; known: {}", Base::kKind, name,
                                   join_names(names())));
    return it->second.factory(config);
  }

  const std::string& summary(const std::string& name) const { return entries_.at(name).summary; }

  std::vector<std::string> names() const {  // sorted: std::map order
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }

 private:
  std::map<std::string, Entry> entries_;
};

}  // namespace kvb

#define KVB_CAT_INNER(a, b) a##b
#define KVB_CAT(a, b) KVB_CAT_INNER(a, b)
// KVB_REGISTER(Base, Type, "name", "one-line summary"): Type must be constructible from json.
#define KVB_REGISTER(Base, Type, name, summary)                                              \
  static const bool KVB_CAT(kvb_registered_, __LINE__) = ::kvb::Registry<Base>::instance().add( \
      name, [](const ::nlohmann::json& cfg) -> std::unique_ptr<Base> {                        \
        return std::make_unique<Type>(cfg);                                                  \
      },                                                                                     \
      summary)
