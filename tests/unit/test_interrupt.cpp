// A stopped long command (Ctrl-C, Slurm's SIGTERM) says what survives, exits as a shell expects
// (128 + signal), and never stops inside a write that DeferInterrupts holds.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "core/interrupt.h"

TEST(InterruptDeathTest, AStopPrintsTheNoteAndExitsWith128PlusTheSignal) {
  EXPECT_EXIT(
      {
        kvb::on_interrupt_say("the note");
        std::raise(SIGTERM);
        std::exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "kvbench: interrupted: the note");
}

TEST(InterruptDeathTest, AStopDuringAHeldWriteWaitsForItsEnd) {
  EXPECT_EXIT(
      {
        kvb::on_interrupt_say("held");
        {
          const kvb::DeferInterrupts outer;
          {
            const kvb::DeferInterrupts inner;
            std::raise(SIGINT);
            std::fputs("inner done\n", stderr);
          }
          std::fputs("outer done\n", stderr);
        }
        std::fputs("after the write\n", stderr);
        std::exit(0);
      },
      ::testing::ExitedWithCode(128 + SIGINT), "inner done\nouter done\n\nkvbench: interrupted: held\n$");
}
