#pragma once
// Running the real binaries (mxctl, mxsim) from end-to-end tests.

#include <map>
#include <string>
#include <vector>

namespace testing_support {

/// What a finished process left behind.
struct ProcessResult {
  int exit_code = -1;  ///< exit status, or 128+signal when killed by a signal
  std::string out;     ///< everything written to stdout
  std::string err;     ///< everything written to stderr
};

/// Runs `argv` (argv[0] is a path, not searched in PATH) to completion with
/// stdin closed, capturing both output streams. `env` entries are added to
/// (or replace) the inherited environment; an entry with an empty value
/// removes the variable. `cwd` empty means the current directory.
ProcessResult run_process(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          const std::string& cwd = "");

}  // namespace testing_support
