#pragma once
// Running a piece of work in a forked child with a time and memory bound, so
// that a test can report a hang or a crash of the code under test instead of
// hanging or crashing itself.

#include <chrono>
#include <functional>
#include <string>

namespace testing_support {

/// How the child ended and what it wrote.
struct Isolated {
  enum class Status { done, timed_out, crashed };
  Status status = Status::done;
  /// What `work` returned (done), else what it wrote before it stopped.
  std::string output;
  /// How the child ended when it crashed: "signal 6", "exit 1".
  std::string how;
};

/// Runs `work` in a forked child limited to `limit` of wall time and to 1 GiB
/// more address space than it started with (a runaway allocation fails
/// there, not on the machine);
/// the child is killed when time runs out. Call from a single-threaded
/// process.
Isolated run_isolated(const std::function<std::string()>& work, std::chrono::milliseconds limit);

}  // namespace testing_support
