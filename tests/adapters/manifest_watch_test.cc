// The manifest watch on a real directory tree: edits, an editor's
// save-by-rename, new files in new directories, removals; and what it does
// not report (files beside a watched one).

#include "adapters/manifests/manifest_watch.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/temp_dir.h"

namespace manifest_watch_test {

namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Counts the watch's calls.
struct Counter {
  std::atomic<int> calls{0};
  std::function<void()> callback() {
    return [this] { ++calls; };
  }
  // Waits until there is a call more than `before`.
  bool more_than(int before, std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (calls.load() <= before && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return calls.load() > before;
  }
};

}  // namespace

TEST_CASE("manifest watch: a directory tree, its new directories and files", "[manifest_watch]") {
  testing_support::TempDir dir;
  const fs::path root = dir.path() / "manifests";
  fs::create_directories(root / "teams");
  std::ofstream(root / "teams" / "a.yaml") << "a: 1\n";
  Counter counter;
  auto watch = adapters::ManifestWatch::start({root.string()}, counter.callback());
  REQUIRE(watch);

  int seen = counter.calls;
  std::ofstream(root / "teams" / "a.yaml", std::ios::app) << "b: 2\n";
  CHECK(counter.more_than(seen));

  seen = counter.calls;
  fs::create_directories(root / "new" / "deeper");
  CHECK(counter.more_than(seen));
  // Give the watch its chance to add the new directories, then write below.
  std::this_thread::sleep_for(100ms);
  seen = counter.calls;
  std::ofstream(root / "new" / "deeper" / "c.yaml") << "c: 3\n";
  CHECK(counter.more_than(seen));

  seen = counter.calls;
  fs::remove(root / "teams" / "a.yaml");
  CHECK(counter.more_than(seen));
}

TEST_CASE("manifest watch: a file named directly, saved by rename, its neighbours ignored", "[manifest_watch]") {
  testing_support::TempDir dir;
  const fs::path file = dir.path() / "users.yaml";
  std::ofstream(file) << "a: 1\n";
  Counter counter;
  auto watch = adapters::ManifestWatch::start({file.string()}, counter.callback());
  REQUIRE(watch);

  // A neighbour's change is not this manifest's.
  std::ofstream(dir.path() / "other.txt") << "x\n";
  std::this_thread::sleep_for(200ms);
  CHECK(counter.calls == 0);

  // An editor writes a new file and renames it over the old one.
  std::ofstream(dir.path() / ".users.yaml.swp") << "a: 2\n";
  fs::rename(dir.path() / ".users.yaml.swp", file);
  CHECK(counter.more_than(0));

  // And the renamed-in file is still watched.
  const int seen = counter.calls;
  std::ofstream(file, std::ios::app) << "b: 3\n";
  CHECK(counter.more_than(seen));
}

TEST_CASE("manifest watch: a path that cannot be watched is an error naming it", "[manifest_watch]") {
  auto watch = adapters::ManifestWatch::start({"/nonexistent-dir/sub/file.yaml"}, [] {});
  REQUIRE_FALSE(watch);
  CHECK(watch.error().message.find("/nonexistent-dir/sub") != std::string::npos);
}

}  // namespace manifest_watch_test
