#include "models/model.h"

#include "core/error.h"
#include "core/registry.h"

namespace kvb {

nlohmann::json ModelFamily::preprocess_report(const MediaInput&, const std::string&, const nlohmann::json&) const {
  throw UsageError("this model family has no standalone media preprocessing report");
}

std::string render_chat(const std::string& family, const std::vector<Message>& messages, bool add_generation_prompt) {
  return Registry<ModelFamily>::instance().create(family, nlohmann::json::object())->render_chat(messages,
                                                                                               add_generation_prompt);
}

}  // namespace kvb
