#pragma once
// A program the benchmark keeps running while it measures it (`mxctl run`):
// its stderr read as it grows, its CPU time and resident set read from
// /proc, signals sent and its exit awaited. Output goes to files, not
// pipes, so a quiet reader never blocks the child.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bench {

/// A child process, killed and reaped when this goes out of scope.
class RunningProcess {
 public:
  /// Starts `argv` (argv[0] a path) with `env` laid over the inherited
  /// environment, stdin from /dev/null, stdout and stderr to `out_path` and
  /// `err_path`. Throws std::runtime_error when it cannot be started.
  RunningProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                 std::string out_path, std::string err_path);
  /// SIGKILL and reap, unless it has exited already.
  ~RunningProcess();
  RunningProcess(const RunningProcess&) = delete;
  RunningProcess& operator=(const RunningProcess&) = delete;

  pid_t pid() const { return m_pid; }
  /// True until the child has exited (reaping it once it has).
  bool running();
  /// Sends `signal` unless the child has exited.
  void signal(int signal);
  /// Waits up to `limit` for the exit: the exit code (128+signal when
  /// killed by one), or nothing when it still runs.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  /// Everything it wrote to stderr so far.
  std::string err() const;
  /// Its user + system CPU so far, in ms (/proc/PID/stat); -1 once gone.
  double cpu_ms() const;
  /// Its resident set now, in kB (VmRSS in /proc/PID/status); -1 once gone.
  long rss_kb() const;

 private:
  std::string m_err_path;
  pid_t m_pid = -1;
  std::optional<int> m_exit_code;
};

}  // namespace bench
