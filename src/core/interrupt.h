#pragma once
// A long command stopped by Ctrl-C or by Slurm's SIGTERM says what survives and how to go on,
// instead of vanishing in the middle of its progress line; a write that must not be cut in half
// (a checkpoint and the state that names its step) holds the stop until it is done.
#include <string>

namespace kvb {

// From now on SIGINT and SIGTERM print "kvbench: interrupted: NOTE" and exit with 128 + signal.
void on_interrupt_say(const std::string& note);

// While one of these lives, a stop waits; it takes effect when the last one ends.
class DeferInterrupts {
 public:
  DeferInterrupts();
  ~DeferInterrupts();
  DeferInterrupts(const DeferInterrupts&) = delete;
  DeferInterrupts& operator=(const DeferInterrupts&) = delete;
};

}  // namespace kvb
