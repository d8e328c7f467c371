#pragma once
// The mxsim binary as a separate process for benchmarks. Out of process on
// purpose: a child's ru_maxrss starts from its parent's resident set (Linux
// keeps the high-water mark across fork and exec), so the driver must stay
// small for mxctl's peak RSS to be mxctl's, and a simulator holding an L
// instance is not small.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace bench {

/// A running mxsim with the bot as server admin, no rate limits, no /sync
/// answer cache (so repeated passes pay for their reads) and a fixed delay.
class SimProcess {
 public:
  /// Starts `mxsim_binary` on a free loopback port; returns once it serves.
  /// Throws std::runtime_error when it does not start.
  SimProcess(const std::string& mxsim_binary, const std::string& work_dir, int delay_ms);
  /// Stops it (SIGTERM, then waits).
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  /// "http://127.0.0.1:PORT".
  const std::string& url() const { return m_url; }
  /// The bot's access token.
  const std::string& token() const { return m_token; }
  /// The environment that points mxctl at this simulator as the bot, with
  /// `state` as its state store.
  std::map<std::string, std::string> mxctl_env(const std::string& state) const;
  /// Requests the simulator has answered so far (its journal's counter).
  std::uint64_t requests_answered() const;

  static constexpr const char* k_server_name = "bench.test";
  static constexpr const char* k_bot = "@mxctl:bench.test";

 private:
  pid_t m_pid = -1;
  std::string m_url;
  std::string m_token;
};

}  // namespace bench
