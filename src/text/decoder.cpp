#include "text/decoder.h"

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/error.h"
#include "text/bpe.h"
#include "text/utf8.h"

namespace kvb::text {
namespace {

using json = nlohmann::json;

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t k = s.find(from); k != std::string::npos; k = s.find(from, k + to.size())) s.replace(k, from.size(), to);
}

class ByteLevel : public Decoder {
 public:
  ByteLevel() {
    const auto& t = byte_to_unicode();
    for (int b = 0; b < 256; ++b) {
      size_t i = 0;
      to_byte_[utf8_next(t[b], i)] = static_cast<char>(b);
    }
  }
  void apply(std::vector<DecodeToken>& toks) const override {
    std::vector<DecodeToken> out;
    std::string bytes;
    const auto flush = [&] {
      if (!bytes.empty()) out.push_back({utf8_lossy(bytes), false});
      bytes.clear();
    };
    for (auto& t : toks) {
      if (t.added) {
        flush();
        out.push_back(std::move(t));
        continue;
      }
      for (size_t i = 0; i < t.text.size();) {
        const uint32_t cp = utf8_next(t.text, i);
        const auto it = to_byte_.find(cp);
        if (it != to_byte_.end()) {
          bytes += it->second;
        } else {  // not a byte-level character: keep it as text
          utf8_append(bytes, cp);
        }
      }
    }
    flush();
    toks.swap(out);
  }

 private:
  std::unordered_map<uint32_t, char> to_byte_;
};

class ByteFallback : public Decoder {
 public:
  void apply(std::vector<DecodeToken>& toks) const override {
    std::vector<DecodeToken> out;
    std::string bytes;
    for (auto& t : toks) {
      const std::string& s = t.text;
      if (s.size() == 6 && s.compare(0, 3, "<0x") == 0 && s[5] == '>' && std::isxdigit(static_cast<unsigned char>(s[3])) &&
          std::isxdigit(static_cast<unsigned char>(s[4]))) {
        bytes += static_cast<char>(std::stoi(s.substr(3, 2), nullptr, 16));
        continue;
      }
      if (!bytes.empty()) out.push_back({utf8_lossy(bytes), false}), bytes.clear();
      out.push_back(std::move(t));
    }
    if (!bytes.empty()) out.push_back({utf8_lossy(bytes), false});
    toks.swap(out);
  }
};

class Replace : public Decoder {
 public:
  Replace(const json& j, const std::string& where) {
    KVB_CHECK(j.at("pattern").contains("String"), "{}: only String patterns are supported in the Replace decoder", where);
    from_ = j.at("pattern").at("String").get<std::string>();
    to_ = j.at("content").get<std::string>();
  }
  void apply(std::vector<DecodeToken>& toks) const override {
    for (auto& t : toks) replace_all(t.text, from_, to_);
  }

 private:
  std::string from_, to_;
};

class Fuse : public Decoder {
 public:
  void apply(std::vector<DecodeToken>& toks) const override {
    std::string all;
    for (const auto& t : toks) all += t.text;
    toks.assign(1, {std::move(all), false});
  }
};

class Strip : public Decoder {
 public:
  Strip(const json& j, const std::string& where)
      : content_(j.at("content").get<std::string>()), start_(j.at("start").get<int>()), stop_(j.at("stop").get<int>()) {
    KVB_CHECK(content_.size() == 1, "{}: Strip content must be one ASCII character", where);
  }
  void apply(std::vector<DecodeToken>& toks) const override {
    for (auto& t : toks) {
      size_t b = 0, e = t.text.size();
      for (int i = 0; i < start_ && b < e && t.text[b] == content_[0]; ++i) ++b;
      for (int i = 0; i < stop_ && e > b && t.text[e - 1] == content_[0]; ++i) --e;
      t.text = t.text.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  int start_, stop_;
};

class Metaspace : public Decoder {
 public:
  explicit Metaspace(const json& j) : replacement_(j.at("replacement").get<std::string>()) {
    strip_first_ = j.contains("prepend_scheme") ? j.at("prepend_scheme").get<std::string>() != "never"
                                                : j.value("add_prefix_space", true);
  }
  void apply(std::vector<DecodeToken>& toks) const override {
    for (size_t i = 0; i < toks.size(); ++i) {
      replace_all(toks[i].text, replacement_, " ");
      if (i == 0 && strip_first_ && !toks[i].text.empty() && toks[i].text[0] == ' ') toks[i].text.erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

class Sequence : public Decoder {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void apply(std::vector<DecodeToken>& toks) const override {
    for (const auto& p : parts_) p->apply(toks);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  try {
    const std::string type = j.at("type").get<std::string>();
    if (type == "ByteLevel") return std::make_unique<ByteLevel>();
    if (type == "ByteFallback") return std::make_unique<ByteFallback>();
    if (type == "Replace") return std::make_unique<Replace>(j, where);
    if (type == "Fuse") return std::make_unique<Fuse>();
    if (type == "Strip") return std::make_unique<Strip>(j, where);
    if (type == "Metaspace") return std::make_unique<Metaspace>(j);
    if (type == "Sequence") {
      std::vector<std::unique_ptr<Decoder>> parts;
      const json& list = j.at("decoders");
      for (size_t i = 0; i < list.size(); ++i)
        if (auto p = make_decoder(list[i], fmt::format("{}.decoders[{}]", where, i))) parts.push_back(std::move(p));
      return std::make_unique<Sequence>(std::move(parts));
    }
    KVB_FAIL("{}: unsupported decoder type '{}' (supported: ByteLevel, ByteFallback, Replace, Fuse, Strip, "
             "Metaspace, Sequence)", where, type);
  } catch (const json::exception& e) {
    KVB_FAIL("{}: malformed decoder: {}", where, e.what());
  }
}

std::string clean_up_tokenization(std::string s) {
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
      {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : rules) replace_all(s, from, to);
  return s;
}

}  // namespace kvb::text
