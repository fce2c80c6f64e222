#include "text/bpe.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <algorithm>

#include "core/error.h"
#include "text/utf8.h"

namespace kvb::text {

std::atomic<uint64_t> Bpe::next_serial_{1};

namespace {

using json = nlohmann::json;
constexpr uint64_t kEmpty = ~uint64_t{0};

inline uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
inline uint64_t mix(uint64_t k) { return (k ^ (k >> 29)) * 0x9E3779B97F4A7C15ull; }

// Words seen before on this thread; keyed by piece text, one map per symbol mode.
struct WordCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, std::vector<int32_t>> words[2];
};
WordCache& word_cache() {
  thread_local WordCache c;
  return c;
}
constexpr size_t kCacheMaxEntries = 1 << 18;
constexpr size_t kCacheMaxWordBytes = 256;

}  // namespace

const std::array<std::string, 256>& byte_to_unicode() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      utf8_append(t[b], printable ? b : 256 + n++);
    }
    return t;
  }();
  return table;
}

Bpe::Bpe(const json& model, const std::string& where) : serial_(next_serial_++) {
  try {
    KVB_CHECK(model.value("type", "BPE") == "BPE", "{}.type: only BPE models are supported (got '{}')", where,
              model.value("type", ""));
    for (const char* k : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const json& v = model.contains(k) ? model.at(k) : json();
      KVB_CHECK(v.is_null() || v.get<std::string>().empty(), "{}.{}: non-empty value is not supported", where, k);
    }
    KVB_CHECK(!model.contains("dropout") || model.at("dropout").is_null(), "{}.dropout: BPE dropout is not supported",
              where);
    byte_fallback_ = model.value("byte_fallback", false);
    fuse_unk_ = model.value("fuse_unk", false);
    ignore_merges_ = model.value("ignore_merges", false);

    const json& vocab = model.at("vocab");
    vocab_.reserve(vocab.size());
    int64_t max_id = -1;
    for (auto it = vocab.begin(); it != vocab.end(); ++it) {
      // get<int64_t>() would truncate 7.5 to 7 and give two tokens one id.
      KVB_CHECK(it.value().is_number_integer(), "{}.vocab['{}']: id must be an integer, got {}", where, it.key(),
                it.value().dump());
      const int64_t id = it.value().get<int64_t>();
      KVB_CHECK(id >= 0 && id < (int64_t{1} << 31), "{}.vocab['{}']: id {} out of range", where, it.key(), id);
      vocab_.emplace(it.key(), static_cast<int32_t>(id));
      max_id = std::max(max_id, id);
    }
    id_to_token_.assign(max_id + 1, std::string());
    for (const auto& [tok, id] : vocab_) {
      id_to_token_[id] = tok;
      size_t i = 0;
      if (!tok.empty() && static_cast<size_t>(utf8_len(tok[0])) == tok.size()) char_ids_[utf8_next(tok, i)] = id;
    }
    for (int b = 0; b < 256; ++b) {
      auto it = vocab_.find(byte_to_unicode()[b]);
      byte_level_ids_[b] = it == vocab_.end() ? -1 : it->second;
      it = vocab_.find(fmt::format("<0x{:02X}>", b));
      fallback_ids_[b] = it == vocab_.end() ? -1 : it->second;
    }
    if (model.contains("unk_token") && model.at("unk_token").is_string()) {
      const auto it = vocab_.find(model.at("unk_token").get<std::string>());
      KVB_CHECK(it != vocab_.end(), "{}.unk_token '{}' is not in the vocab", where, model.at("unk_token").get<std::string>());
      unk_id_ = it->second;
    }

    const json& merges = model.at("merges");
    size_t cap = 16;
    while (cap < merges.size() * 2) cap <<= 1;
    merge_keys_.assign(cap, kEmpty);
    merge_vals_.resize(cap);
    merge_mask_ = cap - 1;
    for (size_t r = 0; r < merges.size(); ++r) {
      std::string a, b;
      if (merges[r].is_array()) {
        a = merges[r].at(0).get<std::string>();
        b = merges[r].at(1).get<std::string>();
      } else {
        const std::string s = merges[r].get<std::string>();
        const size_t sp = s.find(' ');
        KVB_CHECK(sp != std::string::npos, "{}.merges[{}] '{}' has no space", where, r, s);
        a = s.substr(0, sp);
        b = s.substr(sp + 1, s.find(' ', sp + 1) - sp - 1);
      }
      const auto ia = vocab_.find(a), ib = vocab_.find(b), im = vocab_.find(a + b);
      KVB_CHECK(ia != vocab_.end() && ib != vocab_.end() && im != vocab_.end(),
                "{}.merges[{}] ('{}', '{}'): a part or the merged token is not in the vocab", where, r, a, b);
      const uint64_t key = pair_key(ia->second, ib->second);
      uint64_t h = mix(key) & merge_mask_;
      while (merge_keys_[h] != kEmpty && merge_keys_[h] != key) h = (h + 1) & merge_mask_;
      merge_keys_[h] = key;  // a repeated pair keeps its last rank, as the references do
      merge_vals_[h] = {static_cast<int32_t>(r), im->second};
    }
  } catch (const json::exception& e) {
    KVB_FAIL("{}: malformed BPE model: {}", where, e.what());
  }
}

std::optional<int64_t> Bpe::find(const std::string& token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const Bpe::Merge* Bpe::find_merge(int32_t a, int32_t b) const {
  if (a < 0 || b < 0) return nullptr;
  const uint64_t key = pair_key(a, b);
  for (uint64_t h = mix(key) & merge_mask_;; h = (h + 1) & merge_mask_) {
    if (merge_keys_[h] == key) return &merge_vals_[h];
    if (merge_keys_[h] == kEmpty) return nullptr;
  }
}

// Applies merges lowest rank first, leftmost first among equal ranks (the order of both
// reference implementations). `syms` holds the initial symbol ids and receives the result.
void Bpe::merge_word(std::vector<int32_t>& syms) const {
  const int n = static_cast<int>(syms.size());
  if (n < 2) return;
  struct Cand {
    int32_t rank, pos, left, right, merged;
    bool operator<(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  thread_local std::vector<int32_t> prev, next;
  thread_local std::vector<Cand> heap;
  prev.resize(n);
  next.resize(n);
  heap.clear();
  for (int i = 0; i < n; ++i) prev[i] = i - 1, next[i] = i + 1 < n ? i + 1 : -1;
  const auto push = [&](int pos) {
    const int r = next[pos];
    if (const Merge* m = find_merge(syms[pos], syms[r])) {
      heap.push_back({m->rank, pos, syms[pos], syms[r], m->merged});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    const Cand c = heap.back();
    heap.pop_back();
    const int r = next[c.pos];
    // Stale when the left symbol was absorbed (prev == -2) or either side has changed since.
    if (prev[c.pos] == -2 || r < 0 || syms[c.pos] != c.left || syms[r] != c.right) continue;
    syms[c.pos] = c.merged;
    next[c.pos] = next[r];
    if (next[r] >= 0) prev[next[r]] = c.pos;
    prev[r] = -2;
    if (prev[c.pos] >= 0) push(prev[c.pos]);
    if (next[c.pos] >= 0) push(c.pos);
  }
  int w = 0;
  for (int i = 0; i >= 0; i = next[i]) syms[w++] = syms[i];
  syms.resize(w);
}

// Initial symbols of a piece: known ones as ids, unknown ones as -1 - (byte offset).
void Bpe::finish_word(std::string_view piece, bool byte_level, std::vector<int32_t>& ids) const {
  ids.clear();
  if (byte_level) {
    for (size_t i = 0; i < piece.size(); ++i) {
      const int32_t id = byte_level_ids_[static_cast<unsigned char>(piece[i])];
      ids.push_back(id >= 0 ? id : -1 - static_cast<int32_t>(i));
    }
  } else {
    for (size_t i = 0; i < piece.size();) {
      const size_t at = i;
      const auto it = char_ids_.find(utf8_next(piece, i));
      ids.push_back(it != char_ids_.end() ? it->second : -1 - static_cast<int32_t>(at));
    }
  }
  merge_word(ids);
  bool has_unknown = false;
  for (int32_t id : ids) has_unknown |= id < 0;
  if (!has_unknown) return;
  std::vector<int32_t> out;
  for (int32_t id : ids) {
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    const size_t at = static_cast<size_t>(-1 - id);
    const size_t len = byte_level ? 1 : utf8_len(static_cast<unsigned char>(piece[at]));
    bool all = byte_fallback_;
    for (size_t k = 0; all && k < len; ++k) all = fallback_ids_[static_cast<unsigned char>(piece[at + k])] >= 0;
    if (all) {
      for (size_t k = 0; k < len; ++k) out.push_back(fallback_ids_[static_cast<unsigned char>(piece[at + k])]);
      continue;
    }
    KVB_CHECK(unk_id_ >= 0, "tokenizer: '{}' is not in the vocabulary and the model has no unk_token",
              std::string(piece.substr(at, len)));
    if (!(fuse_unk_ && !out.empty() && out.back() == unk_id_)) out.push_back(unk_id_);
  }
  ids.swap(out);
}

void Bpe::encode(std::string_view piece, bool byte_level, std::vector<int64_t>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    std::string mapped;
    if (byte_level) {
      for (unsigned char c : piece) mapped += byte_to_unicode()[c];
    } else {
      mapped = piece;
    }
    if (const auto it = vocab_.find(mapped); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  WordCache& cache = word_cache();
  if (cache.owner != serial_) {
    cache.words[0].clear();
    cache.words[1].clear();
    cache.owner = serial_;
  }
  auto& words = cache.words[byte_level ? 1 : 0];
  const bool cacheable = piece.size() < kCacheMaxWordBytes;
  thread_local std::string key;
  if (cacheable) {
    key.assign(piece.data(), piece.size());
    if (const auto it = words.find(key); it != words.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  thread_local std::vector<int32_t> ids;
  finish_word(piece, byte_level, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) {
    if (words.size() >= kCacheMaxEntries) words.clear();
    words.emplace(key, ids);
  }
}

}  // namespace kvb::text
