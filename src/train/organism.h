#pragma once
// `kvbench train-organism`: trains a small Qwen2.5-VL-architecture checkpoint (the family's own
// code runs the forward; LibTorch autograd + AdamW) on the needle benchmark's retrieval tasks,
// drawn on the fly from seeds disjoint from the evaluation seeds, so that KV-compression methods
// differ on it the way they do on real VLMs.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace kvb {

struct OrganismOptions {
  std::string out_dir;
  uint64_t seed = 1;          // initial weights and the training sample stream
  int64_t steps = 1200;
  int64_t batch = 8;          // samples per optimiser step
  double lr = 3e-3;           // peak; linear warm-up, cosine decay to lr/10
  int64_t warmup = 50;
  double weight_decay = 0.01;
  // Weight of the next-token loss over the prompt's text next to the answer loss: the filler
  // trains the local attention that copying an answer out of the context builds on.
  double prompt_loss = 1.0;
  // Weight of the copy loss: the summed next-token loss at positions whose token the context
  // already showed after the same few tokens (see copy_targets).
  double copy_loss = 0.3;
  int64_t eval_every = 100;   // held-out accuracy every N steps (and at the end)
  int64_t eval_samples = 15;  // per task
  int64_t save_every = 50;    // checkpoint + log every N steps: an interrupted run resumes there
  // needle benchmark options for the training stream and for the held-out set (tasks, lengths,
  // pictures); "seed" and "samples" are set by the trainer.
  nlohmann::json train_tasks;
  int64_t curriculum_tokens = 100;  // training haystacks stay this short for a quarter of the steps (0: no curriculum)
  nlohmann::json eval_tasks;
  std::string device = "cpu";  // "cuda" trains in minutes where a GPU is lent
  bool plot = true;           // loss and accuracy curves through gnuplot at the end
};

// The defaults above with the task mixes of the demo (code, colour, colours).
OrganismOptions default_organism_options();

// Trains (or resumes from out_dir/train_state.json when its settings match) and writes the
// checkpoint, train_log.json and, with plot, train_curves.png into out_dir. Returns the final
// held-out accuracy per task (percent, teacher-forced exact answer = greedy exact answer).
nlohmann::json train_organism(const OrganismOptions& options);

}  // namespace kvb
