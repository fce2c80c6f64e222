#pragma once
// What this binary was built from (for run.json provenance and --version); defined in a file
// the build generates (cmake/version.cmake), so the commit is current at every build.
namespace kvb {
const char* version();     // the project version, e.g. "0.1.0"
const char* git_commit();  // short hash, "-dirty" with uncommitted changes; "unknown" outside git
}  // namespace kvb
