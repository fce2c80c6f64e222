// learn_bpe_merges: the classic BPE loop (most frequent adjacent pair first, ties to the pair
// that sorts first) on pieces cut by the tokenizer's own pre-tokenizer, checked against the
// merges worked out by hand; the learnt file then encodes through our tokenizer as its merges say.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/config.h"
#include "core/error.h"
#include "core/registry.h"
#include "models/model.h"
#include "models/qwen2_5_vl/tiny_model.h"
#include "text/bpe_trainer.h"
#include "text/tokenizer.h"
#include "train/organism.h"
#include "vision/image.h"

namespace {

// Qwen's split cuts "low lower lowest" / "low low" into low | Ġlower | Ġlowest | low | Ġlow.
// Pair counts: (l,o) 5 and (o,w) 5, a tie that "l o" wins; then (lo,w) 5, (Ġ,low) 3,
// (Ġlow,e) 2; every pair left occurs once, so learning stops at four merges.
const std::vector<std::string> kCorpus{"low lower lowest", "low low"};

TEST(BpeTrainer, MergesTheMostFrequentPairUntilNoneRepeats) {
  nlohmann::json tok = kvb::qwen::byte_tokenizer_json({}, 0);
  EXPECT_EQ(kvb::text::learn_bpe_merges(tok, kCorpus, 10, 278), 4);
  EXPECT_EQ(tok["model"]["merges"], (nlohmann::json{"l o", "lo w", "Ġ low", "Ġlow e"}));
  EXPECT_EQ(tok["model"]["vocab"]["lo"], 278);
  EXPECT_EQ(tok["model"]["vocab"]["Ġlowe"], 281);
  const kvb::Tokenizer t = kvb::Tokenizer::from_json(tok, nullptr, "learnt");
  EXPECT_EQ(t.encode("low lowest"), (std::vector<int64_t>{279, 281, 's', 't'}));
  EXPECT_EQ(t.decode(t.encode("lower, lowest!")), "lower, lowest!");
}

TEST(BpeTrainer, StopsAtTheRequestedCount) {
  nlohmann::json tok = kvb::qwen::byte_tokenizer_json({}, 0);
  EXPECT_EQ(kvb::text::learn_bpe_merges(tok, kCorpus, 2, 278), 2);
  EXPECT_EQ(tok["model"]["merges"], (nlohmann::json{"l o", "lo w"}));
}

TEST(BpeTrainer, OrganismVocabularyCoversTheMergesPadded) {
  const nlohmann::json tok = kvb::qwen::byte_tokenizer_json(kCorpus, 746);
  EXPECT_EQ(tok["model"]["merges"].size(), 4u);
  EXPECT_EQ(kvb::qwen::organism_vocab(tok), 288);  // ids 0..281, padded to 32 rows
  EXPECT_EQ(kvb::qwen::organism_vocab(kvb::qwen::byte_tokenizer_json({}, 0)), kvb::qwen::organism_config().text.vocab_size);
}

// The committed fixture (its ids checked against transformers.js) is the file the trainer's
// defaults write today: a change to the needle texts or to the learner shows up here.
TEST(BpeTrainer, OrganismFixtureIsWhatTheTrainerWrites) {
  if (!kvb::vision_decoding_available()) GTEST_FAIL() << "the organism's picture tasks need a build with OpenCV";
  const kvb::OrganismOptions o = kvb::default_organism_options();
  const nlohmann::json learnt = kvb::qwen::byte_tokenizer_json(kvb::organism_tokenizer_corpus(o), o.merges);
  const nlohmann::json fixture = kvb::read_json_file(KVB_SOURCE_DIR "/tests/parity/tokenizer/organism/tokenizer.json");
  EXPECT_EQ(learnt["model"]["merges"].size(), fixture["model"]["merges"].size());
  EXPECT_TRUE(learnt == fixture) << "regenerate: kvbench train-organism --out DIR --steps 1, copy DIR/tokenizer*.json "
                                    "to tests/parity/tokenizer/organism and run node tests/parity/tokenizer/make_goldens.mjs";
}

}  // namespace

TEST(BpeTrainer, MakeTinyRefusesACorpusWithoutMergesAndNegativeMerges) {
  auto family = kvb::Registry<kvb::ModelFamily>::instance().create("qwen2_5_vl", nlohmann::json::object());
  auto refuses = [&](const nlohmann::json& options, const std::string& words) {
    try {
      family->make_tiny("/nonexistent/never-written", 1, options);
      ADD_FAILURE() << options.dump() << " was accepted";
    } catch (const kvb::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refuses({{"geometry", "organism"}, {"bpe_corpus", kCorpus}}, "bpe_corpus needs bpe_merges > 0");
  refuses({{"geometry", "organism"}, {"bpe_corpus", kCorpus}, {"bpe_merges", -3}}, "bpe_merges must be >= 0 (got -3)");
  refuses({{"geometry", "tiny"}, {"bpe_corpus", kCorpus}, {"bpe_merges", 5}}, "needs geometry 'organism'");
}
