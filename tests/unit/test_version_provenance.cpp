// cmake/version.cmake: the commit a build names is "-dirty" whenever the tree differs from it,
// an untracked source file (which the build's globs compile in) included.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

// The git_commit() text version.cmake generates for the checkout `repo`.
std::string generated_commit(const fs::path& repo) {
  const fs::path out = repo.parent_path() / "version.cpp";
  const std::string cmd = "cmake -DSRC=" + repo.string() + " -DOUT=" + out.string() + " -DVERSION=0 -P " +
                          KVB_SOURCE_DIR "/cmake/version.cmake >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(out);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto b = text.find("git_commit() { return \"");
  if (b == std::string::npos) return "(no git_commit in " + text + ")";
  const auto s = b + 23;
  return text.substr(s, text.find('"', s) - s);
}

void git(const fs::path& repo, const std::string& args) {
  const std::string cmd = "git -C " + repo.string() + " -c user.name=t -c user.email=t@t " + args + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace

TEST(VersionProvenance, UntrackedSourceMarksTheBuildDirty) {
  const fs::path top = fs::temp_directory_path() / ("kvb_version_" + std::to_string(::getpid()));
  const fs::path repo = top / "repo";
  fs::remove_all(top);
  fs::create_directories(repo / "src");
  std::ofstream(repo / "src/a.cpp") << "int a;\n";
  std::ofstream(repo / ".gitignore") << "/build/\n";
  git(repo, "init -q");
  git(repo, "add -A");
  git(repo, "commit -q -m one");
  const std::string clean = generated_commit(repo);
  EXPECT_EQ(clean.find("-dirty"), std::string::npos) << clean;
  EXPECT_GE(clean.size(), 7u) << clean;
  fs::create_directories(repo / "build");
  std::ofstream(repo / "build/ignored.o") << "x";  // ignored build output stays clean
  EXPECT_EQ(generated_commit(repo), clean);
  std::ofstream(repo / "src/new_method.cpp") << "int b;\n";
  EXPECT_EQ(generated_commit(repo), clean + "-dirty");
  fs::remove_all(top);
}
