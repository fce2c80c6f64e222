#include "core/param_recorder.h"

namespace kvb {
namespace {
thread_local ParamRecorder* active = nullptr;
}

ParamRecorder::ParamRecorder() : outer_(active) { active = this; }
ParamRecorder::~ParamRecorder() { active = outer_; }

ParamInfo* ParamRecorder::entry(const std::string& key) {
  if (!active) return nullptr;
  for (auto& p : active->params_)
    if (p.key == key) return &p;
  active->params_.push_back({key, "", "", {}, nullptr});
  return &active->params_.back();
}

void ParamRecorder::note(const std::string& key, const std::string& type) {
  if (ParamInfo* p = entry(key); p && !type.empty()) p->type = type;
}
void ParamRecorder::note_default(const std::string& key, const nlohmann::json& value) {
  if (ParamInfo* p = entry(key)) p->default_value = value;
}
void ParamRecorder::note_range(const std::string& key, const std::string& range) {
  if (ParamInfo* p = entry(key)) p->range = range;
}
void ParamRecorder::note_choices(const std::string& key, const std::vector<std::string>& choices) {
  if (ParamInfo* p = entry(key)) p->type = "string", p->choices = choices;
}

}  // namespace kvb
