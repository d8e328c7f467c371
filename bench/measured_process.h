#pragma once
// Runs a program to completion and measures it from outside: wall time and,
// through wait4(), the child's own CPU time and peak resident set. This is
// how the benchmark tells mxctl's work from waiting on the server, without
// trusting anything the program says about itself.

#include <map>
#include <string>
#include <vector>

namespace bench {

/// What one finished run cost.
struct Measured {
  int exit_code = -1;          ///< exit status, 128+signal when killed
  double wall_ms = 0;          ///< from spawn to reaping
  double user_ms = 0;          ///< the child's user CPU
  double system_ms = 0;        ///< the child's system CPU
  long max_rss_kb = 0;         ///< the child's peak resident set (ru_maxrss)
  std::string out;             ///< everything written to stdout
  std::string err;             ///< everything written to stderr

  /// user + system CPU.
  double cpu_ms() const { return user_ms + system_ms; }
};

/// Runs `argv` (argv[0] a path) with `env` added to the inherited
/// environment, stdin from /dev/null and output captured through files in
/// `scratch_dir`. Safe to call from a process with threads (posix_spawn).
/// Throws std::runtime_error when the program cannot be started.
Measured run_measured(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                      const std::string& scratch_dir);

}  // namespace bench
