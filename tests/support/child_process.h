#pragma once
// A child process a test can kill at any moment: output goes to files, not
// pipes, so there is nothing to drain.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace testing_support {

class ChildProcess {
 public:
  /// Starts `argv` (argv[0] a path) with `env` laid over this process's
  /// environment (an empty value unsets), stdin from /dev/null, stdout and
  /// stderr to `out_path` and `err_path`; throws std::runtime_error when it
  /// cannot fork.
  ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
               std::string out_path, std::string err_path);
  /// Kills and reaps a child still running.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// True until the child has exited (reaping it once it has).
  bool running();
  /// SIGKILL unless it already exited, then reaps it; its exit code, 128+9 when killed.
  int kill_and_wait();
  /// Waits for the child to exit; its exit code (128+signal when killed by one).
  int wait();
  /// Waits up to `limit` for the child to exit: its exit code, or nothing
  /// when it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  /// Sends `signal` unless the child has exited.
  void signal(int signal);
  /// What it wrote to stdout / stderr so far.
  std::string out() const;
  std::string err() const;

 private:
  std::string m_out_path;
  std::string m_err_path;
  pid_t m_pid = -1;
  std::optional<int> m_exit_code;
};

}  // namespace testing_support
