#include "bench/running_process.h"

#include "bench/bench_server.h"
#include "tests/support/exec_args.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace bench {

namespace {

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

RunningProcess::RunningProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                               std::string out_path, std::string err_path)
    : m_err_path(std::move(err_path)) {
  const testing_support::ExecArgs exec(argv, env);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int spawned = posix_spawn(&m_pid, exec.program(), &actions, nullptr, exec.argv(), exec.envp());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(spawned));
  }
}

RunningProcess::~RunningProcess() {
  if (running()) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    while (::waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

bool RunningProcess::running() {
  if (m_exit_code) {
    return false;
  }
  int status = 0;
  if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
    m_exit_code = decode(status);
    return false;
  }
  return true;
}

void RunningProcess::signal(int signal) {
  if (running()) {
    ::kill(m_pid, signal);
  }
}

std::optional<int> RunningProcess::wait_for(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return m_exit_code;
}

std::string RunningProcess::err() const {
  std::ifstream in(m_err_path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double RunningProcess::cpu_ms() const { return process_cpu_ms(m_pid).value_or(-1); }

long RunningProcess::rss_kb() const {
  std::ifstream in("/proc/" + std::to_string(m_pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return -1;
}

}  // namespace bench
