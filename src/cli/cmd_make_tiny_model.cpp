// `kvbench make-tiny-model --family qwen2_5_vl|llava|llava_onevision --out DIR [--seed N] [--geometry tiny|organism|3b|7b] [--layers N]
//  [--vision-depth N] [--image-size PX] [--tokenizer FILE]`
#include <iostream>

#include "cli/command.h"
#include "core/registry.h"
#include "models/model.h"

KVB_COMMAND(setup_make_tiny_model, "make-tiny-model",
            "Write a random checkpoint (real config keys, tensor names, tokenizer) for tests and benchmarks") {
  struct Args {
    std::string family = "qwen2_5_vl", out, geometry;
    uint64_t seed = 0;
    int64_t layers = 0, vision_depth = 0, image_size = 0;
    std::string tokenizer;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--family", a->family, "model family (see `kvbench list models`)");
  sub.add_option("--out", a->out, "output folder")->required();
  sub.add_option("--seed", a->seed, "random seed (default 0)");
  sub.add_option("--geometry", a->geometry, "tiny (default), organism (the trainable byte-level model, qwen2_5_vl) or a published size: 3b, 7b");
  sub.add_option("--layers", a->layers, "cut the LLM to N layers");
  sub.add_option("--vision-depth", a->vision_depth, "cut the vision tower to N blocks");
  sub.add_option("--image-size", a->image_size, "llava / llava_onevision: the CLIP / SigLIP tile size in pixels (a multiple of 14; default 112 / 70)");
  sub.add_option("--tokenizer", a->tokenizer, "llava / llava_onevision: a LLaMA / Qwen2 tokenizer.json to ship (e.g. the real one)");
  return [a] {
    nlohmann::json opts = nlohmann::json::object();
    if (!a->geometry.empty()) opts["geometry"] = a->geometry;
    if (a->layers > 0) opts["layers"] = a->layers;
    if (a->vision_depth > 0) opts["vision_depth"] = a->vision_depth;
    if (a->image_size > 0) opts["image_size"] = a->image_size;
    if (!a->tokenizer.empty()) opts["tokenizer"] = a->tokenizer;
    kvb::Registry<kvb::ModelFamily>::instance().create(a->family, nlohmann::json::object())->make_tiny(a->out, a->seed, opts);
    std::cout << a->out << "\n";
  };
}
