// Seeded mutation fuzzing of every file kvbench reads from users, through the real binary:
// safetensors (`inspect --stats`), experiment configs (`run --check`), a checkpoint's
// config.json (`generate`), tokenizer.json (`tokenize`), images (`preprocess --image`) and
// HR-Bench TSV (`data check`). Whatever the bytes, kvbench must end with 0, 1 or 2 (never a
// signal, never a hang); a failure prints exactly one `kvbench: error:` line, as its last
// stderr line. Inputs no reader may accept (unclosed JSON, NaN, nesting past the limit, a cut
// safetensors file) must fail. Failing inputs are kept under TempDir()/kvb_fuzz_findings.
// Each child costs ~0.5 s of CPU in libtorch's start-up alone, so the default run (58 inputs)
// is sized to a ~20 s budget on two cores rather than to a few hundred inputs;
// KVB_FUZZ_ROUNDS=N runs N times as many from the same seeds, for a longer hunt.
#include <gtest/gtest.h>
#include <ATen/ATen.h>

#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/safetensors.h"
#include "e2e/fuzz_support.h"
#include "e2e/scratch_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace kvb::fuzz;

namespace {

constexpr uint64_t kSeed = 20261130;
constexpr size_t kParallel = 2;
constexpr std::chrono::seconds kLimit{20};  // generous: two other builds may share the cores

const fs::path& scratch() {
  static const kvb::test::ScratchDir s("kvb_fuzz_");
  return s.path;
}

size_t rounds() {
  const char* r = std::getenv("KVB_FUZZ_ROUNDS");
  return r && std::atoi(r) > 0 ? static_cast<size_t>(std::atoi(r)) : 1;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// One fuzz target: `write` puts a mutant where the command reads it and returns the command.
struct Target {
  std::string name;
  size_t inputs;
  std::function<Mutant(Mutator&)> mutate;
  std::function<std::vector<std::string>(const fs::path& dir, const Mutant& m)> write;
};

void fuzz(const Target& t) {
  uint64_t seed = kSeed;  // one stream per target: adding a target leaves the others' inputs alone
  for (char c : t.name) seed = seed * 131 + static_cast<uint8_t>(c);
  Mutator mut(seed);
  std::vector<Job> jobs;
  std::vector<Mutant> mutants;
  for (size_t i = 0; i < t.inputs * rounds(); ++i) {
    const fs::path dir = scratch() / t.name / std::to_string(i);
    fs::create_directories(dir);
    mutants.push_back(t.mutate(mut));
    std::vector<std::string> args{"-q", "--threads", "1"};
    for (auto& a : t.write(dir, mutants.back())) args.push_back(std::move(a));
    jobs.push_back({args, dir / "stdin", dir / "stdout", dir / "stderr"});
    if (!fs::exists(dir / "stdin")) jobs.back().stdin_file.clear();
  }
  const auto outcomes = run_all(KVB_BINARY, jobs, kParallel, kLimit);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Outcome& o = outcomes[i];
    const std::string err = slurp(jobs[i].err_file);
    const auto lines = lines_of(err);
    size_t errors = 0;
    for (const auto& l : lines) errors += l.rfind("kvbench: error: ", 0) == 0;
    std::string problem;
    if (o.timed_out) problem = "still running after the time limit";
    else if (o.signaled) problem = "killed by signal " + std::to_string(o.signal);
    else if (o.code < 0 || o.code > 2) problem = "exit status " + std::to_string(o.code);
    else if (o.code == 0 && mutants[i].must_fail) problem = "accepted an input no reader may accept";
    else if (o.code != 0 && (errors != 1 || lines.back().rfind("kvbench: error: ", 0) != 0))
      problem = "not exactly one final `kvbench: error:` line";
    else if (o.code == 0 && errors != 0) problem = "an error line on success";
    if (problem.empty()) continue;
    const fs::path keep = fs::path(testing::TempDir()) / "kvb_fuzz_findings" / t.name / std::to_string(i);
    fs::create_directories(keep);
    fs::copy(jobs[i].out_file.parent_path(), keep,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks | fs::copy_options::overwrite_existing);
    ADD_FAILURE() << t.name << " input " << i << " (" << mutants[i].base << " " << mutants[i].what << "): " << problem
                  << "\nkept in " << keep << "\nstderr:\n" << err.substr(0, 2000);
  }
}

// The tiny checkpoint, made once; mutated copies link its large files.
const fs::path& tiny_model() {
  static const fs::path dir = [] {
    const fs::path d = scratch() / "tiny";
    Job make;
    make.args = {"-q", "make-tiny-model", "--out", d.string()};
    make.out_file = scratch() / "tiny.out", make.err_file = scratch() / "tiny.err";
    const auto o = run_all(KVB_BINARY, {make}, 1, std::chrono::seconds(300));
    EXPECT_EQ(o[0].code, 0) << slurp(scratch() / "tiny.err");
    return d;
  }();
  return dir;
}

std::string pick(Mutator& m, const std::vector<std::string>& bases) { return bases[m.below(bases.size())]; }

TEST(FuzzLoaders, Safetensors) {
  const fs::path base = scratch() / "base.safetensors";
  kvb::write_safetensors(base.string(),
                         {{"a", at::arange(6, at::kFloat).reshape({2, 3})},
                          {"b", at::ones({4}, at::kBFloat16)},
                          {"c", at::arange(4, at::kLong).reshape({2, 2})},
                          {"d", at::zeros({3}, at::kBool)},
                          {"e", at::zeros({0, 5}, at::kHalf)}},
                         {{"format", "pt"}});
  const std::string bytes = slurp(base);
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | static_cast<uint8_t>(bytes[i]);
  const std::string header = bytes.substr(8, hlen), data = bytes.substr(8 + hlen);
  auto with_header = [&](Mutant m) {
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((m.bytes.size() >> (8 * i)) & 0xff);
    m.bytes = len + m.bytes + data;
    return m;
  };
  fuzz({"safetensors", 12,
        [&](Mutator& m) {
          switch (m.below(5)) {
            case 0: return m.flip(bytes, 0, 8 + hlen);
            case 1: { Mutant t = m.truncate(bytes); t.must_fail = true; return t; }  // the last tensor's bytes go
            case 2: return m.duplicate(bytes);
            case 3: return with_header(m.number(header));
            default: return with_header(m.json_text(header));
          }
        },
        [](const fs::path& dir, const Mutant& m) {
          spit(dir / "x.safetensors", m.bytes);
          return std::vector<std::string>{"inspect", (dir / "x.safetensors").string(), "--stats"};
        }});
}

TEST(FuzzLoaders, ExperimentConfig) {
  const json c = {
      {"name", "fuzz"}, {"rho", {0.3, 0.1}},
      {"models", {{{"name", "tiny"}, {"path", scratch().string()}, {"dtype", "float32"}, {"options", {{"max_pixels", 401408}}}}}},
      {"benchmarks", {{{"name", "needle"}, {"options", {{"samples", 3}, {"min_tokens", 100}, {"max_tokens", 150}}}, {"limit", 2}}}},
      {"methods", {{{"name", "full"}}, {{"name", "snapkv"}, {"params", {{"window", 8}}}},
                   {{"name", "flashcache"}, {"grid", {{"gamma", {0.3, 0.2}}}}}}},
      {"generation", {{"max_new_tokens", 4}, {"stop_ids", {151645}}}},
      {"tables", {{{"columns", {{{"benchmark", "needle"}}, {{"benchmark", "needle"}, {"metric", "kl_full"}, {"digits", 6}, {"scale", 100}}}}},
                  {{"layout", "param"}, {"method", "flashcache"}, {"param", "gamma"}, {"bootstrap", 10}}}}};
  const std::string text = c.dump(1);
  fuzz({"experiment", 12, [&](Mutator& m) { return m.json_text(text); },
        [](const fs::path& dir, const Mutant& m) {
          spit(dir / "exp.json", m.bytes);
          return std::vector<std::string>{"run", "--config", (dir / "exp.json").string(), "--check", "--results",
                                          (dir / "results").string()};
        }});
}

TEST(FuzzLoaders, ModelConfig) {
  const fs::path& tiny = tiny_model();
  const std::string text = slurp(tiny / "config.json");
  fuzz({"model_config", 4, [&](Mutator& m) { return m.json_text(text); },
        [&](const fs::path& dir, const Mutant& m) {
          const fs::path model = dir / "model";
          fs::create_directories(model);
          for (const auto& f : fs::directory_iterator(tiny))
            if (f.path().filename() != "config.json") fs::create_symlink(f.path(), model / f.path().filename());
          spit(model / "config.json", m.bytes);
          return std::vector<std::string>{"generate", "--model", model.string(), "--prompt", "hi", "--max-new-tokens", "1"};
        }});
}

TEST(FuzzLoaders, Tokenizer) {
  // Small enough that every mutation lands in a part the loader interprets.
  const json tj = {
      {"added_tokens", {{{"id", 7}, {"content", "<s>"}, {"special", true}, {"single_word", false}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", false}}}},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
                          {"pair", json::array()},
                          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {7}}, {"tokens", {"<s>"}}}}}}}},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"byte_fallback", false},
                 {"vocab", {{"h", 0}, {"i", 1}, {"hi", 2}, {"\xC4\xA0", 3}, {"\xC4\xA0hi", 4}, {"!", 5}, {"x", 6}}},
                 {"merges", {"h i", "\xC4\xA0 hi"}}}}};
  const std::string text = tj.dump(1);
  fuzz({"tokenizer", 10, [&](Mutator& m) { return m.json_text(text); },
        [](const fs::path& dir, const Mutant& m) {
          spit(dir / "tokenizer.json", m.bytes);
          spit(dir / "stdin", "\"hi hi!\"\n\"xx <s> h\"\n");
          return std::vector<std::string>{"tokenize", "--tokenizer", (dir / "tokenizer.json").string(), "--add-special-tokens"};
        }});
}

TEST(FuzzLoaders, Images) {
  const fs::path src = KVB_TEST_DATA;
  const std::vector<std::string> bases = {(src / "fixtures/hrbench/img1.png").string(), (src / "fixtures/hrbench/img2.jpg").string(),
                                          (src / "parity/qwen/goldens/media/img_59x83.bmp").string()};
  fuzz({"image", 10,
        [&](Mutator& m) {
          const std::string base = pick(m, bases);
          Mutant out = m.binary(slurp(base));
          out.base = fs::path(base).filename().string();
          return out;
        },
        [](const fs::path& dir, const Mutant& m) {
          spit(dir / m.base, m.bytes);
          return std::vector<std::string>{"preprocess", "--image", (dir / m.base).string()};
        }});
}

TEST(FuzzLoaders, HrBenchTsv) {
  const fs::path fixture = fs::path(KVB_TEST_DATA) / "fixtures/hrbench";
  fuzz({"hrbench_tsv", 10,
        [&](Mutator& m) {
          const std::string file = m.below(2) ? "hr_bench_4k.tsv" : "hr_bench_8k.tsv";
          const std::string text = slurp(fixture / file);
          Mutant out = m.below(3) == 0 ? m.number(text) : m.binary(text);
          out.base = file;
          return out;
        },
        [&](const fs::path& dir, const Mutant& m) {
          const fs::path root = dir / "HR-Bench";
          fs::create_directories(root);
          for (const char* f : {"hr_bench_4k.tsv", "hr_bench_8k.tsv"}) fs::copy_file(fixture / f, root / f);
          spit(root / m.base, m.bytes);
          return std::vector<std::string>{"data", "check", "--benchmark", "hrbench", "--data-root", root.string()};
        }});
}

}  // namespace
