#pragma once
// Progress of long work on stderr: a redrawn bar with rate and ETA when stderr is a terminal,
// a plain log line every few seconds otherwise (logs, Slurm). Silent under --quiet.
#include <cstdint>
#include <string>

#include "core/timer.h"

namespace kvb {

class Progress {
 public:
  // total <= 0: unknown (no percentage or ETA). `unit` names what is counted ("samples").
  Progress(std::string label, int64_t total, std::string unit = "items");
  ~Progress();  // finishes the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void tick(int64_t n = 1);
  // Counts n items done before this run (a resumed job): shown in the count, not in the rate.
  void resume_at(int64_t n);
  void set_note(std::string note);  // short text after the counts (current cell, last score)
  void finish();

  // "[#####.....] 12/37 32% 1.9 samples/s ETA 0:13 note" (without the label); exposed for tests.
  // The rate counts the items done after the `resumed` ones.
  static std::string render(int64_t done, int64_t total, double seconds, const std::string& unit,
                            const std::string& note, int width, int64_t resumed = 0);
  static std::string format_duration(double seconds);  // 0:13, 1:02:03

 private:
  void draw(bool force);

  std::string label_, unit_, note_;
  int64_t total_, done_ = 0, resumed_ = 0;
  Timer timer_;
  double last_draw_ = -1e9;
  bool tty_, enabled_, finished_ = false;
};

}  // namespace kvb
