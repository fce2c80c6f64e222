#include "text/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/error.h"
#include "core/json_parse.h"
#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/decoder.h"
#include "text/normalizer.h"
#include "text/pretokenizer.h"
#include "text/utf8.h"

namespace kvb {

using json = nlohmann::json;
namespace fs = std::filesystem;

struct Tokenizer::Impl {
  std::string name;
  std::unique_ptr<text::Normalizer> normalizer;
  std::unique_ptr<text::PreTokenizer> pre_tokenizer;
  std::unique_ptr<text::Bpe> model;
  std::unique_ptr<text::Decoder> decoder;
  text::AddedTokenMatcher raw_tokens;         // matched on the input text
  text::AddedTokenMatcher normalized_tokens;  // "normalized": true, matched after normalization
  std::unordered_map<std::string, int64_t> added_ids;
  std::unordered_map<int64_t, text::AddedToken> added_by_id;
  std::vector<int64_t> prefix, suffix;  // what add_special_tokens puts around the ids
  bool clean_up = false;
  int64_t vocab_size = 0;

  void encode_text(std::string s, size_t section, std::vector<int64_t>& out) const;
};

namespace {

json read_json(const fs::path& p) {
  std::ifstream in(p);
  KVB_CHECK(in, "cannot open {}", p.string());
  try {
    return parse_json(in);
  } catch (const json::exception& e) {
    KVB_FAIL("{}: invalid JSON: {}", p.string(), e.what());
  }
}

int64_t id_of(const Tokenizer::Impl& t, const std::string& tok, const std::string& where) {
  if (const auto it = t.added_ids.find(tok); it != t.added_ids.end()) return it->second;
  const auto id = t.model->find(tok);
  KVB_CHECK(id, "{}: token '{}' is not in the vocabulary", where, tok);
  return *id;
}

// A token id from tokenizer.json: get<int64_t>() would truncate 2.5 onto another token's id.
int64_t integer_id(const json& v, const std::string& where) {
  KVB_CHECK(v.is_number_integer(), "{}: id must be an integer, got {}", where, v.dump());
  return v.get<int64_t>();
}

// The single-sequence template of the post-processor as ids before / after the text.
void read_post_processor(Tokenizer::Impl& t, const json& pp, const std::string& where) {
  if (pp.is_null()) return;
  const std::string type = pp.at("type").get<std::string>();
  if (type == "ByteLevel") return;  // offsets only
  if (type == "Sequence") {
    for (size_t i = 0; i < pp.at("processors").size(); ++i)
      read_post_processor(t, pp.at("processors")[i], fmt::format("{}.processors[{}]", where, i));
    return;
  }
  if (type == "TemplateProcessing") {
    t.prefix.clear(), t.suffix.clear();
    bool seen_a = false;
    for (const json& item : pp.at("single")) {
      if (item.contains("Sequence")) {
        seen_a = true;
        continue;
      }
      const std::string tok = item.at("SpecialToken").at("id").get<std::string>();
      KVB_CHECK(pp.at("special_tokens").contains(tok), "{}.special_tokens lacks '{}'", where, tok);
      for (const json& id : pp.at("special_tokens").at(tok).at("ids"))
        (seen_a ? t.suffix : t.prefix).push_back(integer_id(id, fmt::format("{}.special_tokens['{}']", where, tok)));
    }
    return;
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    t.prefix = {integer_id(pp.at("cls").at(1), where + ".cls")};
    t.suffix = {integer_id(pp.at("sep").at(1), where + ".sep")};
    return;
  }
  KVB_FAIL("{}: unsupported post_processor type '{}' (supported: TemplateProcessing, ByteLevel, BertProcessing, "
           "RobertaProcessing, Sequence)", where, type);
}

std::string token_string(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content")) return v.at("content").get<std::string>();
  return {};
}

// tokenizer_config.json: transformers' LlamaTokenizerFast rebuilds the template from
// add_bos_token / add_eos_token, and decode() honours clean_up_tokenization_spaces.
void read_config(Tokenizer::Impl& t, const json& cfg) {
  if (!cfg.is_object()) return;
  const std::string where = t.name + " tokenizer_config.json";
  if (cfg.contains("clean_up_tokenization_spaces") && cfg.at("clean_up_tokenization_spaces").is_boolean())
    t.clean_up = cfg.at("clean_up_tokenization_spaces").get<bool>();
  const std::string cls = cfg.value("tokenizer_class", "");
  if (cls.find("Llama") == std::string::npos) return;
  if (cfg.contains("add_bos_token")) {
    t.prefix.clear();
    if (cfg.at("add_bos_token").get<bool>()) t.prefix.push_back(id_of(t, token_string(cfg.value("bos_token", json())), where + " bos_token"));
  }
  if (cfg.contains("add_eos_token")) {
    t.suffix.clear();
    if (cfg.at("add_eos_token").get<bool>()) t.suffix.push_back(id_of(t, token_string(cfg.value("eos_token", json())), where + " eos_token"));
  }
}

}  // namespace

void Tokenizer::Impl::encode_text(std::string s, size_t section, std::vector<int64_t>& out) const {
  if (normalizer) normalizer->apply(s);
  if (s.empty()) return;
  std::vector<text::Section> parts;
  if (normalized_tokens.empty()) {
    parts.push_back({s, -1});
  } else {
    normalized_tokens.split(s, parts);
  }
  text::Pieces p;
  for (const auto& part : parts) {
    if (part.token >= 0) {
      out.push_back(normalized_tokens.token(part.token).id);
      continue;
    }
    if (part.text.empty()) continue;
    p.views.assign(1, part.text);
    p.byte_level = false;
    if (pre_tokenizer) pre_tokenizer->apply(p, section);
    for (std::string_view v : p.views) model->encode(v, p.byte_level, out);
  }
}

Tokenizer Tokenizer::from_json(const json& tj, const json& config, const std::string& name) {
  auto t = std::make_shared<Impl>();
  t->name = name;
  try {
    t->model = std::make_unique<text::Bpe>(tj.at("model"), name + ": model");
    t->normalizer = text::make_normalizer(tj.value("normalizer", json()), name + ": normalizer");
    t->pre_tokenizer = text::make_pre_tokenizer(tj.value("pre_tokenizer", json()), name + ": pre_tokenizer");
    t->decoder = text::make_decoder(tj.value("decoder", json()), name + ": decoder");
    std::vector<text::AddedToken> raw, normalized;
    t->vocab_size = static_cast<int64_t>(t->model->tokens().size());
    for (const json& a : tj.value("added_tokens", json::array())) {
      text::AddedToken tok;
      tok.content = a.at("content").get<std::string>();
      tok.id = integer_id(a.at("id"), fmt::format("{}: added_tokens entry {}", name, a.dump()));
      tok.lstrip = a.value("lstrip", false);
      tok.rstrip = a.value("rstrip", false);
      tok.special = a.value("special", false);
      tok.single_word = a.value("single_word", false);
      // tokenizers' default: special tokens are matched raw, others after normalization.
      tok.normalized = a.contains("normalized") ? a.at("normalized").get<bool>() : !tok.special;
      KVB_CHECK(!tok.content.empty() && tok.id >= 0 && tok.id < (int64_t{1} << 31),
                "{}: added_tokens entry {} is invalid", name, a.dump());
      t->added_ids[tok.content] = tok.id;
      t->added_by_id[tok.id] = tok;
      t->vocab_size = std::max(t->vocab_size, tok.id + 1);
      (tok.normalized && t->normalizer ? normalized : raw).push_back(std::move(tok));
    }
    t->raw_tokens = text::AddedTokenMatcher(std::move(raw));
    t->normalized_tokens = text::AddedTokenMatcher(std::move(normalized));
    read_post_processor(*t, tj.value("post_processor", json()), name + ": post_processor");
  } catch (const json::exception& e) {
    KVB_FAIL("{}: malformed tokenizer.json: {}", name, e.what());
  }
  read_config(*t, config);
  Tokenizer out;
  out.impl_ = std::move(t);
  return out;
}

Tokenizer Tokenizer::from_file(const std::string& path_or_dir) {
  fs::path p(path_or_dir);
  if (fs::is_directory(p)) p /= "tokenizer.json";
  KVB_CHECK(fs::is_regular_file(p), "tokenizer: {} does not exist (expected tokenizer.json or a folder holding one)",
            p.string());
  const fs::path cfg = p.parent_path() / "tokenizer_config.json";
  return from_json(read_json(p), fs::is_regular_file(cfg) ? read_json(cfg) : json(), p.string());
}

std::vector<int64_t> Tokenizer::encode(const std::string& text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  const size_t bad = text::utf8_invalid_at(text);
  KVB_CHECK(bad == std::string::npos, "tokenizer: input is not valid UTF-8 (byte {})", bad);
  std::vector<int64_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special_tokens) out = t.prefix;
  std::vector<text::Section> sections;
  t.raw_tokens.split(text, sections);
  for (size_t i = 0; i < sections.size(); ++i) {
    if (sections[i].token >= 0) {
      out.push_back(t.raw_tokens.token(sections[i].token).id);
    } else if (!sections[i].text.empty()) {
      t.encode_text(std::string(sections[i].text), i, out);
    }
  }
  if (add_special_tokens) out.insert(out.end(), t.suffix.begin(), t.suffix.end());
  return out;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  std::vector<text::DecodeToken> toks;
  toks.reserve(ids.size());
  for (int64_t id : ids) {
    if (const auto it = t.added_by_id.find(id); it != t.added_by_id.end()) {
      if (!(skip_special_tokens && it->second.special)) toks.push_back({it->second.content, true});
      continue;
    }
    toks.push_back({id_to_token(id), false});
  }
  std::string s;
  if (t.decoder) {
    t.decoder->apply(toks);
    for (const auto& tok : toks) s += tok.text;
  } else {
    for (size_t i = 0; i < toks.size(); ++i) s += (i ? " " : "") + toks[i].text;
  }
  return t.clean_up ? text::clean_up_tokenization(std::move(s)) : s;
}

std::optional<int64_t> Tokenizer::find_token(const std::string& token) const {
  if (const auto it = impl_->added_ids.find(token); it != impl_->added_ids.end()) return it->second;
  return impl_->model->find(token);
}

int64_t Tokenizer::token_to_id(const std::string& token) const { return id_of(*impl_, token, impl_->name); }

std::string Tokenizer::id_to_token(int64_t id) const {
  if (const auto it = impl_->added_by_id.find(id); it != impl_->added_by_id.end()) return it->second.content;
  const auto& v = impl_->model->tokens();
  KVB_CHECK(id >= 0 && id < static_cast<int64_t>(v.size()) && !v[id].empty(), "{}: token id {} is not in the vocabulary",
            impl_->name, id);
  return v[id];
}

bool Tokenizer::is_special(int64_t id) const {
  const auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && it->second.special;
}

int64_t Tokenizer::vocab_size() const { return impl_->vocab_size; }

}  // namespace kvb
