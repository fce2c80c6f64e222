#include "eval/rouge.h"

#include <set>
#include <vector>

#include "eval/text_norm.h"

namespace kvb {
namespace {
using Words = std::vector<std::string>;

// Rouge._get_scores: [" ".join(s.split()) for s in text.split(".") if len(s) > 0]
std::vector<std::string> sentences(const std::string& s) {
  std::vector<std::string> out;
  for (const auto& piece : text::split(s, "."))
    if (!piece.empty()) out.push_back(text::join(text::split_ws(piece), " "));
  return out;
}

// _split_into_words: s.split(" ") per sentence ("" gives one empty word, as in Python).
Words words_of(const std::vector<std::string>& sents) {
  Words out;
  for (const auto& s : sents)
    for (auto& w : text::split(s, " ")) out.push_back(std::move(w));
  return out;
}

// _recon_lcs(x, y): one LCS read back from the DP table with the package's tie-break
// (up when table[i-1][j] > table[i][j-1], else left), as a set of words.
std::set<std::string> recon_lcs(const Words& x, const Words& y) {
  const size_t n = x.size(), m = y.size();
  std::vector<std::vector<int>> t(n + 1, std::vector<int>(m + 1, 0));
  for (size_t i = 1; i <= n; ++i)
    for (size_t j = 1; j <= m; ++j)
      t[i][j] = x[i - 1] == y[j - 1] ? t[i - 1][j - 1] + 1 : std::max(t[i - 1][j], t[i][j - 1]);
  std::set<std::string> out;
  size_t i = n, j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] == y[j - 1]) {
      out.insert(x[i - 1]);
      --i, --j;
    } else if (t[i - 1][j] > t[i][j - 1]) {
      --i;
    } else {
      --j;
    }
  }
  return out;
}
}  // namespace

RougeL rouge_l_pltrdy(const std::string& hypothesis, const std::string& reference) {
  RougeL out;
  auto hyp = sentences(hypothesis), ref = sentences(reference);
  if (hyp.empty() || ref.empty()) return out;
  Words hw = words_of(hyp), rw = words_of(ref);
  const double m = static_cast<double>(std::set<std::string>(rw.begin(), rw.end()).size());
  const double n = static_cast<double>(std::set<std::string>(hw.begin(), hw.end()).size());
  std::set<std::string> uni;
  for (const auto& r : ref) {
    Words rws = words_of({r});
    for (const auto& h : hyp) {
      auto lcs = recon_lcs(rws, words_of({h}));
      uni.insert(lcs.begin(), lcs.end());
    }
  }
  const double llcs = static_cast<double>(uni.size());
  out.r = llcs / m;
  out.p = llcs / n;
  out.f = 2.0 * ((out.p * out.r) / (out.p + out.r + 1e-8));
  out.valid = true;
  return out;
}

}  // namespace kvb
