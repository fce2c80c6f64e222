// `kvbench compress` through the real binary: the plan JSON equals the library's plan for the
// same tensors, needs are derived from the stored queries, and bad input fails clearly.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compress/offline.h"
#include "core/registry.h"
#include "core/safetensors.h"

namespace fs = std::filesystem;

namespace {

struct Exit {
  int code;
  std::string err;
};

Exit kvbench(const std::string& args) {
  const auto err = fs::temp_directory_path() / ("kvb_compress_" + std::to_string(::getpid()) + ".err");
  const int status = std::system((std::string(KVB_BINARY) + " " + args + " 2>" + err.string()).c_str());
  std::ifstream f(err);
  std::string text((std::istreambuf_iterator<char>(f)), {});
  fs::remove(err);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

struct Dump {
  std::string path;
  std::vector<std::pair<std::string, at::Tensor>> tensors;
};

Dump make_dump(bool with_queries) {
  at::manual_seed(41);
  Dump d{(fs::temp_directory_path() / ("kvb_compress_" + std::to_string(::getpid()) + ".safetensors")).string(), {}};
  const int64_t t = 37;
  for (int l = 0; l < 3; ++l) {
    const auto p = "layers." + std::to_string(l) + ".";
    d.tensors.push_back({p + "keys", at::randn({2, t, 8})});
    d.tensors.push_back({p + "values", at::randn({2, t, 8})});
    if (with_queries) d.tensors.push_back({p + "queries", at::randn({4, 11, 8})});
  }
  auto mod = at::zeros({t}, at::kByte);
  mod.narrow(0, 5, 20).fill_(1);
  d.tensors.push_back({"modality", mod});
  kvb::write_safetensors(d.path, d.tensors);
  return d;
}

}  // namespace

TEST(CliCompress, PlanMatchesLibrary) {
  auto dump = make_dump(true);
  const auto out = dump.path + ".json";
  for (const char* method : {"snapkv", "h2o", "flashcache", "adakv"}) {
    SCOPED_TRACE(method);
    auto e = kvbench(std::string("-q compress --kv ") + dump.path + " --method " + method +
                     " --ratio 0.3 --set window=8 --out " + out);
    if (std::string(method) != "snapkv" && std::string(method) != "adakv") {
      EXPECT_EQ(e.code, 2) << e.err;  // window is not a key of h2o / flashcache
      EXPECT_NE(e.err.find("window"), std::string::npos) << e.err;
      e = kvbench(std::string("-q compress --kv ") + dump.path + " --method " + method + " --ratio 0.3 --out " + out);
    }
    ASSERT_EQ(e.code, 0) << e.err;
    std::ifstream f(out);
    auto got = nlohmann::json::parse(f);
    // The same computation through the library.
    nlohmann::json cfg = nlohmann::json::object();
    if (std::string(method) == "snapkv" || std::string(method) == "adakv") cfg["window"] = 8;
    auto m = kvb::Registry<kvb::CompressionMethod>::instance().create(method, cfg);
    auto p = kvb::read_kv_file(dump.path);
    kvb::prepare_needs(p, *m, method, dump.path);
    auto want = kvb::plans_to_json(kvb::compression_step(*m, p.layers, p.info, 0.3, method), *m, method, 0.3);
    EXPECT_EQ(got, want);
    ASSERT_EQ(got["layers"].size(), 3u);
    EXPECT_EQ(got["layers"][0]["keep"].size(), 2u);
    EXPECT_EQ(got["method"], method);
  }
  fs::remove(out);
  fs::remove(dump.path);
}

TEST(CliCompress, ClearErrors) {
  auto dump = make_dump(false);
  auto e = kvbench("compress --kv " + dump.path + " --method snapkv --ratio 0.5");
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("method 'snapkv' needs post-RoPE queries"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find("layers.0.queries"), std::string::npos) << e.err;
  e = kvbench("compress --kv " + dump.path + " --method flashcache --ratio 1.5");
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("ratio"), std::string::npos) << e.err;
  e = kvbench("compress --kv " + dump.path + " --method nosuch --ratio 0.5");
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("unknown method 'nosuch'"), std::string::npos) << e.err;
  // Values missing for a layer: the error names the file and the tensor.
  auto broken = dump.tensors;
  broken.erase(std::remove_if(broken.begin(), broken.end(), [](auto& p) { return p.first == "layers.1.values"; }),
               broken.end());
  kvb::write_safetensors(dump.path, broken);
  e = kvbench("compress --kv " + dump.path + " --method streaming_llm --ratio 0.5");
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("layers.1.values"), std::string::npos) << e.err;
  EXPECT_NE(e.err.find(dump.path), std::string::npos) << e.err;
  fs::remove(dump.path);
}

// Malformed dumps end in one error naming the file and tensor, never in a crash or a shorter read.
TEST(CliCompress, MalformedDumpsAreErrors) {
  const auto dump = make_dump(true);
  auto with = [&](const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& edit) {
    auto t = dump.tensors;
    for (auto& [n, v] : t) v = v.clone();  // edits stay in this case
    edit(t);
    kvb::write_safetensors(dump.path, t);
    return kvbench("compress --kv " + dump.path + " --method snapkv --ratio 0.5 --out " + dump.path + ".json");
  };
  auto expect = [&](const Exit& e, const std::string& says) {
    EXPECT_EQ(e.code, 1) << e.err;
    EXPECT_NE(e.err.find(dump.path), std::string::npos) << e.err;
    EXPECT_NE(e.err.find(says), std::string::npos) << e.err;
  };
  // Zero kv heads: Hq % Hkv would divide by zero.
  expect(with([](auto& t) {
           for (auto& [n, v] : t)
             if (n.find("keys") != std::string::npos || n.find("values") != std::string::npos) v = at::zeros({0, 37, 8});
         }),
         "must both be [Hkv, T, D] with Hkv, D >= 1");
  expect(with([](auto& t) { t[3].second[1][2][3] = NAN; }), "layers.1.keys holds NaN or infinite values");
  expect(with([](auto& t) { t[2].second[0][0][0] = INFINITY; }), "layers.0.queries holds NaN or infinite values");
  // A misnamed tensor would silently make the 3-layer dump a 1-layer one.
  expect(with([](auto& t) { t[3].first = "layers.1.key"; }), "unexpected tensor 'layers.1.key' (after 1 layers)");
  expect(with([](auto& t) { t.push_back({"extra", at::zeros({1})}); }), "unexpected tensor 'extra'");
  fs::remove(dump.path);
  fs::remove(dump.path + ".json");
}

namespace {

// bench-compress times every method it is given, multimodal ones included (MEDA's all-query
// summary, LOOK-M's attention mass), and records threads and all three bounds.
TEST(CliBenchCompress, TimesEveryMethodWithItsNeeds) {
  const auto out = fs::temp_directory_path() / ("kvb_bench_" + std::to_string(::getpid()) + ".json");
  const auto r = kvbench("bench-compress --geometry qwen2.5-vl-3b --tokens 160 --repeats 1 --threads 1 "
                         "--methods meda,lookm,mixkv,snapkv,flashcache --out " + out.string() + " >/dev/null");
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(out);
  const auto j = nlohmann::json::parse(f);
  fs::remove(out);
  EXPECT_EQ(j["machine"]["torch_threads"], 1);
  for (const char* m : {"meda", "lookm", "mixkv", "snapkv", "flashcache"}) {
    ASSERT_TRUE(j["methods"].contains(m)) << m;
    EXPECT_GT(j["methods"][m]["ms"]["160"].get<double>(), 0.0) << m;
  }
  EXPECT_TRUE(j["methods"]["meda"]["needs"]["prefill_summary"].get<bool>());
  for (const char* b : {"memory_pass_ms", "dct_idct_ms", "window_gemm_ms"})
    EXPECT_GT(j["bounds"][b]["160"].get<double>(), 0.0) << b;
}

// The output's folder is made before the timing starts; one that cannot be made, or a misspelt
// method, is an error before any timing (not after minutes of it).
TEST(CliBenchCompress, OutputFolderAndMethodsCheckedFirst) {
  const auto dir = fs::temp_directory_path() / ("kvb_bench_dir_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = kvbench("bench-compress --geometry qwen2.5-vl-3b --tokens 160 --repeats 1 --threads 1 --methods snapkv --out " +
                   (dir / "sub" / "c.json").string() + " >/dev/null");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "sub" / "c.json"));
  { std::ofstream(dir / "file") << "x"; }  // a file where a folder should be
  r = kvbench("bench-compress --geometry qwen2.5-vl-3b --tokens 160 --methods snapkv --out " + (dir / "file" / "c.json").string());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--out " + (dir / "file" / "c.json").string() + ": cannot write there"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("bench-compress 1/"), std::string::npos) << "timed before refusing: " << r.err;
  // So is a misspelt method, even one listed after a real one.
  r = kvbench("bench-compress --geometry qwen2.5-vl-3b --tokens 160 --methods snapkv,snapkb");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown method 'snapkb'"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("bench-compress 1/"), std::string::npos) << "timed before refusing: " << r.err;
  fs::remove_all(dir);
}

}  // namespace
