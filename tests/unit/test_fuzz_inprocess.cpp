// The loaders fuzzed in-process, for volume: several hundred seeded mutations in a few seconds
// (tests/e2e/test_fuzz_loaders.cpp runs fewer through the binary, for exit codes and signals,
// since each child pays ~0.5 s to load libtorch). Every input must load or throw kvb::Error,
// the error type the CLI prints as one line: a nlohmann or std exception escaping, a crash or a
// hang fails this test.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "core/config.h"
#include "core/error.h"
#include "core/safetensors.h"
#include "e2e/fuzz_support.h"
#include "e2e/scratch_dir.h"
#include "eval/sweep.h"
#include "text/tokenizer.h"
#include "vision/image.h"

namespace {

namespace fs = std::filesystem;
using kvb::fuzz::Mutant;
using kvb::fuzz::Mutator;
using nlohmann::json;

const fs::path& scratch() {
  static const kvb::test::ScratchDir s("kvb_fuzz_inprocess_");
  return s.path;
}

// Runs `n` mutants through `load`; returns how many loaded. Anything but kvb::Error fails.
int fuzz(const char* what, uint64_t seed, int n, const std::function<Mutant(Mutator&)>& mutate,
         const std::function<void(const Mutant&)>& load) {
  Mutator m(seed);
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    const Mutant x = mutate(m);
    try {
      load(x);
      ++ok;
      EXPECT_FALSE(x.must_fail) << what << " #" << i << " (" << x.what << ") loaded but no reader may accept it";
    } catch (const kvb::Error&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << " #" << i << " (" << x.what << "): " << typeid(e).name() << " escaped: " << e.what();
    }
  }
  return ok;
}

TEST(FuzzInProcess, SafetensorsExperimentTokenizerAndImages) {
  const auto start = std::chrono::steady_clock::now();
  int total = 0;

  // safetensors: header bytes flipped, file cut, ranges duplicated.
  const fs::path base = scratch() / "base.safetensors";
  kvb::write_safetensors(base.string(), {{"a", at::arange(12, at::kFloat).reshape({3, 4})},
                                         {"b", at::ones({5}, at::kBFloat16)}, {"c", at::arange(3, at::kLong)}});
  const std::string st = kvb::fuzz::slurp(base);
  const int st_ok = fuzz("safetensors", 11, 500,
       [&](Mutator& m) {
         switch (m.below(3)) {
           case 0: return m.flip(st, 0, std::min<size_t>(st.size(), 200));
           case 1: return m.truncate(st);
           default: return m.duplicate(st);
         }
       },
       [&](const Mutant& x) {
         kvb::fuzz::spit(scratch() / "x.safetensors", x.bytes);
         const auto f = kvb::SafeTensors::open((scratch() / "x.safetensors").string());
         for (const auto& t : f.tensors()) f.get(t.name);
       });
  total += 500;

  // Experiment configs, read as `kvbench run --config` reads them.
  const json exp = {{"name", "fuzz"}, {"rho", {0.3, 0.1}},
                    {"models", {{{"name", "tiny"}, {"path", "/m"}, {"dtype", "float32"}}}},
                    {"benchmarks", {{{"name", "needle"}, {"options", {{"samples", 3}, {"min_tokens", 100}}}}}},
                    {"methods", {{{"name", "full"}}, {{"name", "flashcache"}, {"grid", {{"gamma", {0.3, 0.2}}}}}}},
                    {"generation", {{"max_new_tokens", 4}}},
                    {"tables", {{{"columns", {{{"benchmark", "needle"}, {"metric", "kl_full"}, {"digits", 6}}}}}}}};
  const std::string et = exp.dump(1);
  const int exp_ok = fuzz("experiment", 12, 500, [&](Mutator& m) { return m.json_text(et); },
       [&](const Mutant& x) {
         kvb::fuzz::spit(scratch() / "exp.json", x.bytes);
         kvb::parse_experiment(kvb::read_json_file((scratch() / "exp.json").string()), "exp.json",
                               {{"models", "/m"}, {"data", "/d"}, {"results", (scratch() / "r").string()}});
       });
  total += 500;

  // tokenizer.json (a small byte-level BPE), loaded and used.
  const json tj = {{"added_tokens", {{{"id", 7}, {"content", "<s>"}, {"special", true}}}},
                   {"normalizer", {{"type", "NFC"}}},
                   {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
                   {"decoder", {{"type", "ByteLevel"}}},
                   {"model", {{"type", "BPE"}, {"vocab", {{"h", 0}, {"i", 1}, {"hi", 2}, {"\xC4\xA0", 3}, {"\xC4\xA0hi", 4}, {"!", 5}}},
                              {"merges", {"h i", "\xC4\xA0 hi"}}}}};
  const std::string tt = tj.dump(1);
  const int tok_ok = fuzz("tokenizer", 13, 400, [&](Mutator& m) { return m.json_text(tt); },
       [&](const Mutant& x) {
         kvb::fuzz::spit(scratch() / "tokenizer.json", x.bytes);
         const auto tok = kvb::Tokenizer::from_file((scratch() / "tokenizer.json").string());
         tok.decode(tok.encode("hi hi! <s>"), false);
       });
  total += 400;

  // Images, decoded as the processors decode them.
  const fs::path src = KVB_TEST_DATA;
  const std::vector<std::string> images = {kvb::fuzz::slurp(src / "fixtures/hrbench/img1.png"),
                                           kvb::fuzz::slurp(src / "fixtures/hrbench/img2.jpg"),
                                           kvb::fuzz::slurp(src / "parity/qwen/goldens/media/img_59x83.bmp")};
  const int img_ok = fuzz("image", 14, 400, [&](Mutator& m) { return m.binary(images[m.below(images.size())]); },
       [&](const Mutant& x) { kvb::decode_image_bytes(x.bytes, "fuzzed image"); });
  total += 400;

  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << total << " mutated inputs in " << s << " s; loaded: safetensors " << st_ok << ", experiment " << exp_ok
            << ", tokenizer " << tok_ok << ", image " << img_ok << " (the rest: one kvb::Error each)\n";
}

}  // namespace
