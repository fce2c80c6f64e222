#include "engine/hf_messages.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include "core/error.h"

namespace kvb {
namespace {

std::string media_path(const nlohmann::json& v, const std::string& base_dir, const std::string& where) {
  if (v.is_array())
    throw UsageError(fmt::format("{}: a video given as a list of frames is not supported; give the folder that holds the frames", where));
  if (!v.is_string() || v.get<std::string>().empty())
    throw UsageError(fmt::format("{}: the media path must be a non-empty string", where));
  std::string p = v.get<std::string>();
  if (p.rfind("file://", 0) == 0) p = p.substr(7);
  if (p.find("://") != std::string::npos || p.rfind("data:", 0) == 0)
    throw UsageError(fmt::format("{}: '{}' is not a local file (URLs and data URIs are not fetched)", where, p));
  const std::filesystem::path path(p);
  return (path.is_absolute() ? path : std::filesystem::path(base_dir) / path).lexically_normal().string();
}

Segment segment_of(const nlohmann::json& e, const std::string& base_dir, const std::string& where) {
  if (!e.is_object()) throw UsageError(fmt::format("{}: a content element must be an object", where));
  const std::string type = e.contains("type") && e["type"].is_string() ? e["type"].get<std::string>()
                           : e.contains("image")                      ? "image"
                           : e.contains("video")                      ? "video"
                           : e.contains("text")                       ? "text"
                                                                      : "";
  static const std::map<std::string, std::set<std::string>> accepted = {
      {"text", {"type", "text"}},
      {"image", {"type", "image", "max_pixels"}},
      {"video", {"type", "video", "fps", "max_pixels"}}};
  const auto a = accepted.find(type);
  if (a == accepted.end())
    throw UsageError(fmt::format("{}: field 'type' must be text, image or video, got {}", where, e.value("type", nlohmann::json()).dump()));
  for (const auto& [k, v] : e.items())
    if (!a->second.count(k))
      throw UsageError(fmt::format("{}: unknown key '{}' in a {} element; accepted: {}", where, k, type,
                                   fmt::join(a->second, ", ")));
  if (type == "text") {
    if (!e.contains("text") || !e["text"].is_string()) throw UsageError(fmt::format("{}: field 'text' must be a string", where));
    return text_segment(e["text"].get<std::string>());
  }
  if (!e.contains(type)) throw UsageError(fmt::format("{}: field '{}' (the file) is missing", where, type));
  MediaRef m;
  m.path = media_path(e[type], base_dir, where + "." + type);
  m.label = where + "." + type;  // errors name the element as well as the file
  if (e.contains("max_pixels")) {
    if (!e["max_pixels"].is_number_integer() || e["max_pixels"].get<int64_t>() <= 0)
      throw UsageError(fmt::format("{}: field 'max_pixels' must be a positive integer", where));
    m.max_pixels = e["max_pixels"].get<int64_t>();
  }
  if (e.contains("fps")) {
    if (!e["fps"].is_number() || !(e["fps"].get<double>() > 0))
      throw UsageError(fmt::format("{}: field 'fps' must be a positive number", where));
    m.fps = e["fps"].get<double>();
  }
  return type == "image" ? image_segment(m) : video_segment(m);
}

}  // namespace

std::vector<Message> messages_from_json(const nlohmann::json& j, const std::string& base_dir, const std::string& where) {
  if (!j.is_array() || j.empty()) throw UsageError(fmt::format("{}: expected a non-empty JSON array of messages", where));
  std::vector<Message> out;
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string w = fmt::format("{}[{}]", where, i);
    const auto& m = j[i];
    if (!m.is_object()) throw UsageError(fmt::format("{}: a message must be an object", w));
    for (const auto& [k, v] : m.items())
      if (k != "role" && k != "content") throw UsageError(fmt::format("{}: unknown key '{}'; accepted: role, content", w, k));
    if (!m.contains("role") || !m["role"].is_string()) throw UsageError(fmt::format("{}: field 'role' must be a string", w));
    Message msg{m["role"].get<std::string>(), {}};
    if (msg.role != "system" && msg.role != "user" && msg.role != "assistant")
      throw UsageError(fmt::format("{}: field 'role' must be system, user or assistant, got '{}'", w, msg.role));
    if (!m.contains("content")) throw UsageError(fmt::format("{}: field 'content' is missing", w));
    const auto& c = m["content"];
    if (c.is_string()) {
      msg.content.push_back(text_segment(c.get<std::string>()));
    } else if (c.is_array()) {
      for (size_t k = 0; k < c.size(); ++k) msg.content.push_back(segment_of(c[k], base_dir, fmt::format("{}.content[{}]", w, k)));
    } else {
      throw UsageError(fmt::format("{}: field 'content' must be a string or an array", w));
    }
    out.push_back(std::move(msg));
  }
  return out;
}

}  // namespace kvb
