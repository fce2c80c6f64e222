#pragma once
// Chat messages in the Hugging Face / qwen-vl-utils JSON form, so that a prompt interleaving text,
// images and videos (as MileBench's do) can be given on the command line:
//   [{"role": "system", "content": "..."},
//    {"role": "user", "content": [{"type": "text", "text": "Compare"},
//                                 {"type": "image", "image": "a.jpg", "max_pixels": 401408},
//                                 {"type": "video", "video": "frames/", "fps": 1.0}]}]
// Media paths may carry a file:// prefix; relative ones are resolved against `base_dir`.
#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "core/prompt.h"

namespace kvb {

// `where` names the source in errors ("msgs.json"). Unknown keys, roles and types are errors.
std::vector<Message> messages_from_json(const nlohmann::json& j, const std::string& base_dir, const std::string& where);

}  // namespace kvb
