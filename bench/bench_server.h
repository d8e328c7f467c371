#pragma once
// A homeserver the benchmark runs mxctl against: the simulator, a Synapse
// it starts, or one the operator names. The passes are the same; what
// differs is how the server is reached, whether it counts the requests it
// answers, and whether its process is on this machine to read its CPU from.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace bench {

/// One homeserver, reached as the bot, a server admin.
class BenchServer {
 public:
  virtual ~BenchServer() = default;
  /// "http://127.0.0.1:PORT".
  virtual const std::string& url() const = 0;
  /// The bot's access token.
  virtual const std::string& token() const = 0;
  virtual const std::string& server_name() const = 0;
  virtual const std::string& bot_user_id() const = 0;
  /// What it is, for the results: "mxsim", "Synapse 1.67.0".
  virtual std::string describe() const = 0;
  /// Requests it has answered so far, when it counts them; nothing otherwise.
  virtual std::optional<std::uint64_t> requests_answered() const { return std::nullopt; }
  /// Its process on this machine, when known; -1 otherwise.
  virtual pid_t pid() const { return -1; }

  /// The environment that points mxctl at it as the bot, with `state` as
  /// the state store.
  std::map<std::string, std::string> mxctl_env(const std::string& state) const;
};

/// A homeserver named on the command line, already running.
class GivenServer final : public BenchServer {
 public:
  /// `pid` -1: not on this machine, or not known.
  GivenServer(std::string url, std::string token, std::string server_name, std::string bot_user_id, pid_t pid);

  const std::string& url() const override { return m_url; }
  const std::string& token() const override { return m_token; }
  const std::string& server_name() const override { return m_server_name; }
  const std::string& bot_user_id() const override { return m_bot; }
  std::string describe() const override;
  pid_t pid() const override { return m_pid; }

 private:
  std::string m_url;
  std::string m_token;
  std::string m_server_name;
  std::string m_bot;
  pid_t m_pid;
};

/// The user + system CPU `pid` (all its threads) has used so far, in ms,
/// read from /proc; nothing when it cannot be read.
std::optional<double> process_cpu_ms(pid_t pid);

/// "Synapse 1.67.0" from the admin API's server_version, else "the
/// homeserver at URL".
std::string homeserver_version(const std::string& url, const std::string& token);

}  // namespace bench
