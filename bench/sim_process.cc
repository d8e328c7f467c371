#include "bench/sim_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace bench {

namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' ')) {
    line.pop_back();
  }
  return line;
}

}  // namespace

SimProcess::SimProcess(const std::string& mxsim_binary, const std::string& work_dir, int delay_ms) {
  std::string token_file = work_dir + "/mxsim.token";
  std::string out_file = work_dir + "/mxsim.out";
  std::string err_file = work_dir + "/mxsim.err";
  ::unlink(token_file.c_str());
  ::unlink(out_file.c_str());
  std::vector<std::string> args = {mxsim_binary,   "--listen",         "127.0.0.1:0", "--server-name",
                                   k_server_name,  "--admin-user",     "mxctl",       "--admin-token-file",
                                   token_file,     "--sync-cache-ms",  "0",           "--delay-ms",
                                   std::to_string(delay_ms)};
  std::vector<char*> argv;
  for (std::string& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int spawned = posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw std::runtime_error("cannot start " + mxsim_binary + ": " + std::strerror(spawned));
  }
  // mxsim prints its URL once it accepts connections.
  for (int i = 0; i < 200 && m_url.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    m_url = first_line(out_file);
  }
  m_token = first_line(token_file);
  if (m_url.empty() || m_token.empty()) {
    std::ifstream err(err_file);
    std::stringstream text;
    text << err.rdbuf();
    throw std::runtime_error("mxsim did not start: " + text.str());
  }
}

SimProcess::~SimProcess() {
  if (m_pid > 0) {
    ::kill(m_pid, SIGTERM);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

std::optional<std::uint64_t> SimProcess::requests_answered() const {
  httplib::Client client(m_url);
  client.set_read_timeout(30, 0);
  auto result = client.Get("/_mxsim/stats", {{"Authorization", "Bearer " + m_token}});
  if (!result || result->status != 200) {
    throw std::runtime_error("mxsim: GET /_mxsim/stats failed");
  }
  return nlohmann::json::parse(result->body).value("requests", std::uint64_t{0});
}

}  // namespace bench
