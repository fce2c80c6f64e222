#include "core/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace kvb {
namespace {

char g_note[1024];
std::atomic<int> g_defer_depth{0};
std::atomic<int> g_pending{0};

[[noreturn]] void say_and_exit(int sig) {
  // Only async-signal-safe calls: the note was formatted when the handler was installed.
  const ssize_t n = ::write(STDERR_FILENO, g_note, std::strlen(g_note));
  (void)n;
  ::_exit(128 + sig);  // what a shell reports for a death by that signal
}

void on_signal(int sig) {
  if (g_defer_depth.load() > 0) {
    g_pending.store(sig);
    // Still held: the last DeferInterrupts to end sees the pending stop. If that one ended
    // between the two loads it missed it, so stop here.
    if (g_defer_depth.load() > 0) return;
  }
  say_and_exit(sig);
}

}  // namespace

void on_interrupt_say(const std::string& note) {
  std::snprintf(g_note, sizeof g_note, "\nkvbench: interrupted: %s\n", note.c_str());
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

DeferInterrupts::DeferInterrupts() { ++g_defer_depth; }

DeferInterrupts::~DeferInterrupts() {
  if (--g_defer_depth == 0 && g_pending.load() != 0) say_and_exit(g_pending.load());
}

}  // namespace kvb
