#include "eval/show.h"

#include <algorithm>

#include "core/error.h"
#include "core/registry.h"

namespace kvb {
namespace {

using nlohmann::json;

const char* const kFields[] = {"prediction",      "extracted",    "answer",       "score",      "failed",
                               "error",           "stop_reason",  "prompt_tokens", "media_tokens", "kept_tokens",
                               "kv_bytes_after",  "vision_ms",    "prefill_ms",   "compress_ms", "decode_ms_median",
                               "decode_steps",    "agree_full",   "kl_full"};

// A markdown table cell: one line, pipes escaped.
std::string cell_text(const json* v) {
  if (!v || v->is_null()) return "-";
  std::string s = v->is_string() ? v->get<std::string>() : v->is_number_float() ? fmt::format("{:g}", v->get<double>()) : v->dump();
  std::string out;
  for (char c : s) out += c == '\n' ? std::string("\\n") : c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

const json* find_record(const std::vector<json>& records, const std::string& id) {
  for (const auto& r : records)
    if (r.is_object() && r.value("id", "") == id) return &r;
  return nullptr;
}

}  // namespace

std::string prompt_text(const std::vector<Message>& messages) {
  std::string out;
  for (const auto& m : messages) {
    out += (out.empty() ? "[" : "\n[") + m.role + "]";
    for (const auto& s : m.content) {
      if (s.kind == Segment::Kind::Text) {
        out += " " + s.text;
        continue;
      }
      const std::string name = !s.media.label.empty() ? s.media.label : s.media.path;
      out += fmt::format(" <{}: {}>", s.kind == Segment::Kind::Image ? "image" : "video", name);
    }
  }
  return out;
}

std::string show_sample(const Experiment& exp, const RecordSource& source, const std::string& cell,
                        const std::string& id, const std::string& model) {
  std::vector<std::string> names;
  const ModelSpec* m = model.empty() && !exp.models.empty() ? &exp.models.front() : nullptr;
  for (const auto& spec : exp.models) {
    names.push_back(spec.name);
    if (spec.name == model) m = &spec;
  }
  if (!m) throw UsageError(fmt::format("{}: no model '{}'; models: {}", exp.source, model, join_names(names)));
  names.clear();
  const Cell* c = nullptr;
  for (const auto& x : exp.cells) {
    names.push_back(x.dir);
    if (x.dir == cell) c = &x;
  }
  if (!c) throw UsageError(fmt::format("{}: no cell '{}'; cells: {}", exp.source, cell, join_names(names)));
  const Cell* full = exp.full_cell();
  std::string out;
  for (const auto& b : exp.benchmarks) {
    const std::vector<json> records = source(*m, *c, b);
    const json* rec = find_record(records, id);
    if (!rec) continue;
    const std::vector<json> full_records = full && full != c ? source(*m, *full, b) : std::vector<json>{};
    const json* ref = full && full != c ? find_record(full_records, id) : nullptr;
    out += fmt::format("{}## {} / {} (model {}, group {})\n\n", out.empty() ? "" : "\n", b.id, id, m->name,
                       rec->value("group", ""));
    out += rec->contains("prompt") ? "```\n" + (*rec)["prompt"].get<std::string>() + "\n```\n\n"
                                   : "(prompt not recorded: the records predate `prompt`)\n\n";
    const bool pair = full && full != c;
    out += pair ? fmt::format("| | full | {} |\n|---|---|---|\n", c->dir) : fmt::format("| | {} |\n|---|---|\n", c->dir);
    for (const char* f : kFields) {
      const json* mine = rec->contains(f) ? &(*rec)[f] : nullptr;
      const json* theirs = ref && ref->contains(f) ? &(*ref)[f] : nullptr;
      if (!mine && !theirs) continue;
      out += pair ? fmt::format("| {} | {} | {} |\n", f, cell_text(theirs), cell_text(mine))
                  : fmt::format("| {} | {} |\n", f, cell_text(mine));
    }
  }
  if (out.empty())
    throw UsageError(fmt::format("{}: no record with id '{}' in cell '{}' of model '{}' (results under {})", exp.source,
                                 id, cell, m->name, exp.results_root));
  return out;
}

}  // namespace kvb
