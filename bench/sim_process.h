#pragma once
// The mxsim binary as a separate process for benchmarks. Out of process on
// purpose: a child's ru_maxrss starts from its parent's resident set (Linux
// keeps the high-water mark across fork and exec), so the driver must stay
// small for mxctl's peak RSS to be mxctl's, and a simulator holding an L
// instance is not small.

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "bench/bench_server.h"

namespace bench {

/// A running mxsim with the bot as server admin, no rate limits, no /sync
/// answer cache (so repeated passes pay for their reads) and a fixed delay.
class SimProcess final : public BenchServer {
 public:
  /// Starts `mxsim_binary` on a free loopback port; returns once it serves.
  /// Throws std::runtime_error when it does not start.
  SimProcess(const std::string& mxsim_binary, const std::string& work_dir, int delay_ms);
  /// Stops it (SIGTERM, then waits).
  ~SimProcess() override;
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  const std::string& url() const override { return m_url; }
  const std::string& token() const override { return m_token; }
  const std::string& server_name() const override { return m_server_name; }
  const std::string& bot_user_id() const override { return m_bot; }
  std::string describe() const override { return "mxsim"; }
  /// Requests the simulator has answered so far (its journal's counter).
  std::optional<std::uint64_t> requests_answered() const override;
  pid_t pid() const override { return m_pid; }

  static constexpr const char* k_server_name = "bench.test";
  static constexpr const char* k_bot = "@mxctl:bench.test";

 private:
  pid_t m_pid = -1;
  std::string m_url;
  std::string m_token;
  std::string m_server_name = k_server_name;
  std::string m_bot = k_bot;
};

}  // namespace bench
