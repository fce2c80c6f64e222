#include "text/normalizer.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "text/regex.h"

namespace kvb::text {
namespace {

using json = nlohmann::json;

const icu::Normalizer2* icu_form(const std::string& form) {
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* n = form == "NFC"    ? icu::Normalizer2::getNFCInstance(st)
                              : form == "NFD"  ? icu::Normalizer2::getNFDInstance(st)
                              : form == "NFKC" ? icu::Normalizer2::getNFKCInstance(st)
                              : form == "NFKD" ? icu::Normalizer2::getNFKDInstance(st)
                                               : nullptr;
  KVB_CHECK(n && U_SUCCESS(st), "unknown or unavailable Unicode normalization form '{}'", form);
  return n;
}

bool is_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

class UnicodeForm : public Normalizer {
 public:
  explicit UnicodeForm(std::string form) : form_(std::move(form)), n_(icu_form(form_)) {}
  void apply(std::string& s) const override {
    if (is_ascii(s)) return;  // ASCII is invariant under every form
    UErrorCode st = U_ZERO_ERROR;
    if (n_->isNormalizedUTF8(s, st) && U_SUCCESS(st)) return;
    st = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(s.size()));
    n_->normalizeUTF8(0, s, sink, nullptr, st);
    KVB_CHECK(U_SUCCESS(st), "{} normalization failed: {}", form_, u_errorName(st));
    s.swap(out);
  }

 private:
  std::string form_;
  const icu::Normalizer2* n_;
};

class Prepend : public Normalizer {
 public:
  explicit Prepend(std::string p) : p_(std::move(p)) {}
  void apply(std::string& s) const override {
    if (!s.empty()) s.insert(0, p_);
  }

 private:
  std::string p_;
};

class Replace : public Normalizer {
 public:
  Replace(const json& j, const std::string& where) {
    const json& pat = j.at("pattern");
    content_ = j.at("content").get<std::string>();
    if (pat.contains("String")) {
      literal_ = pat.at("String").get<std::string>();
      KVB_CHECK(!literal_.empty(), "{}: Replace pattern.String is empty", where);
    } else {
      regex_ = std::make_unique<Regex>(pat.at("Regex").get<std::string>(), where + ".pattern.Regex");
    }
  }
  void apply(std::string& s) const override {
    if (!regex_) {
      if (s.find(literal_) == std::string::npos) return;
      std::string out;
      size_t i = 0;
      for (size_t k; (k = s.find(literal_, i)) != std::string::npos; i = k + literal_.size())
        out.append(s, i, k - i).append(content_);
      s = out.append(s, i, std::string::npos);
      return;
    }
    std::vector<std::pair<size_t, size_t>> m;
    regex_->find_all(s, m);
    if (m.empty()) return;
    std::string out;
    size_t i = 0;
    for (auto [b, e] : m) out.append(s, i, b - i).append(content_), i = e;
    s = out.append(s, i, std::string::npos);
  }

 private:
  std::string literal_, content_;
  std::unique_ptr<Regex> regex_;
};

class Sequence : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void apply(std::string& s) const override {
    for (const auto& p : parts_) p->apply(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

void unicode_normalize(std::string& s, const std::string& form) { UnicodeForm(form).apply(s); }

std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where) {
  if (j.is_null()) return nullptr;
  try {
    const std::string type = j.at("type").get<std::string>();
    if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD")
      return std::make_unique<UnicodeForm>(type);
    if (type == "Prepend") return std::make_unique<Prepend>(j.at("prepend").get<std::string>());
    if (type == "Replace") return std::make_unique<Replace>(j, where);
    if (type == "Sequence") {
      std::vector<std::unique_ptr<Normalizer>> parts;
      const json& list = j.at("normalizers");
      for (size_t i = 0; i < list.size(); ++i)
        if (auto p = make_normalizer(list[i], fmt::format("{}.normalizers[{}]", where, i)))
          parts.push_back(std::move(p));
      return std::make_unique<Sequence>(std::move(parts));
    }
    KVB_FAIL("{}: unsupported normalizer type '{}' (supported: NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence)",
             where, type);
  } catch (const json::exception& e) {
    KVB_FAIL("{}: malformed normalizer: {}", where, e.what());
  }
}

}  // namespace kvb::text
