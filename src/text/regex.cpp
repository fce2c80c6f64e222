#define PCRE2_CODE_UNIT_WIDTH 8
#include "text/regex.h"

#include <pcre2.h>

#include "core/error.h"
#include "text/utf8.h"

namespace kvb::text {
namespace {

std::string pcre2_message(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof(buf));
  return reinterpret_cast<const char*>(buf);
}

// Per-thread scratch: match data and a JIT stack big enough for long whitespace runs.
struct Scratch {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
  pcre2_match_context* ctx = pcre2_match_context_create(nullptr);
  Scratch() { pcre2_jit_stack_assign(ctx, nullptr, stack); }
  ~Scratch() {
    pcre2_match_context_free(ctx);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The reference runs these patterns as JavaScript /u regexes. JavaScript's \s is exactly this
// set (WhiteSpace + LineTerminator); PCRE2's Unicode \s differs (it has U+0085, lacks U+FEFF),
// so \s and \S are spelled out.
constexpr const char* kJsSpace =
    "\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}";

std::string js_whitespace_classes(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char n = p[++i];
      if (n == 's') out += in_class ? std::string(kJsSpace) : fmt::format("[{}]", kJsSpace);
      else if (n == 'S' && !in_class) out += fmt::format("[^{}]", kJsSpace);
      else out += c, out += n;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];  // a leading ] is literal
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
  std::string where;
};

Regex::Regex(const std::string& pattern, const std::string& where) : impl_(std::make_unique<Impl>()) {
  impl_->where = where;
  int err = 0;
  PCRE2_SIZE off = 0;
  const std::string p = js_whitespace_classes(pattern);
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(p.data()), p.size(),
                              PCRE2_UTF | PCRE2_UCP, &err, &off, nullptr);
  KVB_CHECK(impl_->code, "{}: cannot compile regex /{}/ at offset {}: {}", where, pattern, off,
            pcre2_message(err));
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

Regex::~Regex() {
  if (impl_ && impl_->code) pcre2_code_free(impl_->code);
}

void Regex::find_all(std::string_view s, std::vector<std::pair<size_t, size_t>>& out) const {
  Scratch& sc = scratch();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t start = 0;
  while (start <= s.size()) {
    const int rc = impl_->jit
        ? pcre2_jit_match(impl_->code, subject, s.size(), start, 0, sc.data, sc.ctx)
        : pcre2_match(impl_->code, subject, s.size(), start, PCRE2_NO_UTF_CHECK, sc.data, sc.ctx);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    KVB_CHECK(rc >= 0, "{}: regex match failed: {}", impl_->where, pcre2_message(rc));
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(sc.data);
    const size_t b = ov[0], e = ov[1];
    if (e > b) {
      out.emplace_back(b, e);
      start = e;
    } else {
      // An empty match advances by one code point, as JavaScript's matchAll does with /u.
      if (e >= s.size()) break;
      start = e + utf8_len(static_cast<unsigned char>(s[e]));
    }
  }
}

std::optional<std::pair<size_t, size_t>> Regex::search(std::string_view s, int group) const {
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(impl_->code, nullptr), &pcre2_match_data_free);
  const int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), 0, 0, data.get(), nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return std::nullopt;
  KVB_CHECK(rc >= 0, "{}: regex match failed: {}", impl_->where, pcre2_message(rc));
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
  if (group >= rc || ov[2 * group] == PCRE2_UNSET) return std::nullopt;
  return std::make_pair(static_cast<size_t>(ov[2 * group]), static_cast<size_t>(ov[2 * group + 1]));
}

}  // namespace kvb::text
