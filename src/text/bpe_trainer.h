#pragma once
// Learns byte-level BPE merges from a corpus, as the tokenizers library's BpeTrainer does at its
// core: the corpus is cut into pieces by the tokenizer.json's own pre-tokenizer, then the most
// frequent adjacent symbol pair is merged, again and again. A small model's tokenizer learnt on
// its task texts gives words one token each, so its context holds words, not letters.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace kvb::text {

// `tokenizer`: a byte-level BPE tokenizer.json (every byte a token, no merges yet); its
// "pre_tokenizer" splits the corpus. Appends up to `merges` merges (fewer when no pair occurs
// twice) to model.merges and their tokens to model.vocab from id `first_id` on. Ties between
// equally frequent pairs go to the pair that sorts first, so the result is a function of the
// corpus alone. Returns the number of merges learnt.
int64_t learn_bpe_merges(nlohmann::json& tokenizer, const std::vector<std::string>& corpus, int64_t merges,
                         int64_t first_id);

}  // namespace kvb::text
