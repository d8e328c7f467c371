#include "bench/bench_server.h"

#include <unistd.h>

#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace bench {

std::map<std::string, std::string> BenchServer::mxctl_env(const std::string& state) const {
  return {{"MATRIX_HOMESERVER_URL", url()},
          {"MATRIX_SERVER_NAME", server_name()},
          {"MATRIX_BOT_USER_ID", bot_user_id()},
          {"MATRIX_BOT_ACCESS_TOKEN", token()},
          {"MXCTL_STATE", state}};
}

GivenServer::GivenServer(std::string url, std::string token, std::string server_name, std::string bot_user_id,
                         pid_t pid)
    : m_url(std::move(url)),
      m_token(std::move(token)),
      m_server_name(std::move(server_name)),
      m_bot(std::move(bot_user_id)),
      m_pid(pid) {}

std::string GivenServer::describe() const { return homeserver_version(m_url, m_token); }

std::optional<double> process_cpu_ms(pid_t pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) {
    return std::nullopt;
  }
  // The command name (field 2) may hold spaces; the fields after its ")"
  // start at field 3, and utime and stime are fields 14 and 15.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  for (int number = 3; number <= 15 && fields >> field; ++number) {
    if (number == 14) {
      utime = std::stoull(field);
    } else if (number == 15) {
      stime = std::stoull(field);
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      return static_cast<double>(utime + stime) * 1000.0 / ticks;
    }
  }
  return std::nullopt;
}

std::string homeserver_version(const std::string& url, const std::string& token) {
  httplib::Client client(url);
  client.set_read_timeout(30, 0);
  auto answer = client.Get("/_synapse/admin/v1/server_version", {{"Authorization", "Bearer " + token}});
  if (answer && answer->status == 200) {
    auto body = nlohmann::json::parse(answer->body, nullptr, false);
    if (body.is_object() && body.contains("server_version") && body["server_version"].is_string()) {
      return "Synapse " + body["server_version"].get<std::string>();
    }
  }
  return "the homeserver at " + url;
}

}  // namespace bench
