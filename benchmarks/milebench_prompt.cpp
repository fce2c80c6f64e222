#include "benchmarks/milebench_prompt.h"

#include <memory>
#include <unordered_map>

#include "eval/text_norm.h"

namespace kvb::milebench {

std::string choice_block(const std::vector<std::string>& choices, bool with_letters) {
  std::vector<std::string> lines;
  for (size_t i = 0; i < choices.size(); ++i)
    lines.push_back((with_letters ? std::string(1, static_cast<char>('A' + i)) + ". " : "") + choices[i]);
  return "\nChoice list: \n" + text::join(lines, "\n") + "\nYour answer is: ";
}

std::string map_placeholders(std::string context, size_t n_images) {
  for (size_t i = 1; i <= n_images; ++i) {
    context = text::replace_all(context, "{image#" + std::to_string(i) + "}", kImagePlaceholder);
    context = text::replace_all(context, "{table#" + std::to_string(i) + "}", kImagePlaceholder);
  }
  return context;
}

namespace {
// Python's ids[-n:] for any integer n (n == 0 keeps everything, n < 0 drops the first -n).
std::vector<int64_t> py_tail(const std::vector<int64_t>& ids, int64_t n) {
  const int64_t size = static_cast<int64_t>(ids.size());
  int64_t start = n == 0 ? 0 : n > 0 ? std::max<int64_t>(0, size - n) : std::min(size, -n);
  return {ids.begin() + start, ids.end()};
}
}  // namespace

Truncated truncate_left(const std::string& instruction, const std::string& context,
                        std::vector<std::string> images, const TokenCodec& codec,
                        int64_t max_context_len, int64_t n_tokens_per_image) {
  const int64_t budget = max_context_len - static_cast<int64_t>(codec.encode(instruction).size());
  std::vector<std::string> fragments = text::split(context, kImagePlaceholder);
  std::vector<std::vector<int64_t>> chunks;  // front = earliest
  Truncated out;
  int64_t used = 0;
  bool image_start = false;
  for (auto it = fragments.rbegin(); it != fragments.rend(); ++it) {
    std::vector<int64_t> ids = codec.encode(*it);
    const int64_t len = static_cast<int64_t>(ids.size());
    if (len + used > budget) {
      if (chunks.empty()) chunks.insert(chunks.begin(), py_tail(ids, budget));
      break;
    }
    image_start = false;
    chunks.insert(chunks.begin(), std::move(ids));
    used += len;
    if (n_tokens_per_image + used > budget) break;
    if (!images.empty()) {
      image_start = true;
      out.images.insert(out.images.begin(), images.back());
      images.pop_back();
      used += n_tokens_per_image;
    }
  }
  std::string body;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) body += codec.decode(chunks[i]) + kImagePlaceholder;
  body += codec.decode(chunks.back());
  if (image_start) body = kImagePlaceholder + body;
  out.text = instruction + "\n" + body;
  return out;
}

TokenCodec word_codec() {
  struct Vocab {
    std::vector<std::string> pieces;
    std::unordered_map<std::string, int64_t> ids;
  };
  auto vocab = std::make_shared<Vocab>();
  TokenCodec c;
  c.encode = [vocab](const std::string& s) {
    std::vector<int64_t> out;
    size_t i = 0;
    while (i < s.size()) {
      size_t b = i;
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      std::string piece = s.substr(b, i - b);
      auto [it, fresh] = vocab->ids.emplace(piece, static_cast<int64_t>(vocab->pieces.size()));
      if (fresh) vocab->pieces.push_back(piece);
      out.push_back(it->second);
    }
    return out;
  };
  c.decode = [vocab](const std::vector<int64_t>& ids) {
    std::string out;
    for (int64_t id : ids) out += vocab->pieces.at(static_cast<size_t>(id));
    return out;
  };
  return c;
}

}  // namespace kvb::milebench
