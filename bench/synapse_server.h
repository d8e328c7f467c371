#pragma once
// A fresh Synapse for one benchmark run, made with the homeserver scripts
// beside the project (start, make-admin, stop): its own directory and
// database, a free loopback port, the bot @mxctl:localhost its admin. A
// fresh server per instance makes every cold apply cold.

#include <string>

#include "bench/bench_server.h"

namespace bench {

/// A Synapse started from the scripts in `scripts_dir` (for example
/// ../shared/homeservers/synapse-1.67) in `dir`; stopped when destroyed.
/// Its rate limits are what RATE_LIMITS in the environment says (the
/// scripts' default: relaxed).
class SynapseServer final : public BenchServer {
 public:
  /// Starts it and makes the bot; throws std::runtime_error, with the
  /// scripts' output, when either fails.
  SynapseServer(const std::string& scripts_dir, const std::string& dir);
  ~SynapseServer() override;
  SynapseServer(const SynapseServer&) = delete;
  SynapseServer& operator=(const SynapseServer&) = delete;

  const std::string& url() const override { return m_url; }
  const std::string& token() const override { return m_token; }
  const std::string& server_name() const override { return m_server_name; }
  const std::string& bot_user_id() const override { return m_bot; }
  std::string describe() const override { return m_version; }
  pid_t pid() const override { return m_pid; }

 private:
  std::string m_scripts;
  std::string m_dir;
  std::string m_url;
  std::string m_token;
  std::string m_server_name = "localhost";
  std::string m_bot = "@mxctl:localhost";
  std::string m_version;
  pid_t m_pid = -1;
};

}  // namespace bench
