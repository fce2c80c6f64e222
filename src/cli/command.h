#pragma once
// Subcommands register themselves (one file each under src/cli/), so adding a command never
// touches main.cpp. CLI11 appears only in src/cli/.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace kvb::cli {

struct CommandDef {
  std::string name;
  std::string help;
  // Adds options to `sub` and returns the action to run once the command line is parsed.
  // Runtime failures throw kvb::Error, usage problems kvb::UsageError.
  std::function<std::function<void()>(CLI::App& sub)> setup;
};

// Accepts decimal digits only. CLI::NonNegativeNumber would print its range, whose upper end
// (the largest double) is a 309-digit number.
inline CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& v) {
        const bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
        return digits ? std::string() : "must be a non-negative integer, got '" + v + "'";
      },
      "N>=0");
}

std::vector<CommandDef>& commands();
inline bool register_command(CommandDef def) {
  commands().push_back(std::move(def));
  return true;
}

}  // namespace kvb::cli

// KVB_COMMAND(setup_fn, "name", "help") { add options to `sub`; return [=]{ ...run... }; }
#define KVB_COMMAND(ident, name, help)                                                        \
  static std::function<void()> ident(CLI::App& sub);                                        \
  static const bool ident##_registered = ::kvb::cli::register_command({name, help, ident}); \
  static std::function<void()> ident(CLI::App& sub)
