#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "tests/support/exec_args.h"

namespace testing_support {

namespace {

int decode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                           std::string out_path, std::string err_path)
    : m_out_path(std::move(out_path)), m_err_path(std::move(err_path)) {
  const ExecArgs exec(argv, env, /*empty_unsets=*/true);
  // Everything is opened before fork: only async-signal-safe calls between fork and exec.
  int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out = open(m_out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err = open(m_err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (in < 0 || out < 0 || err < 0) {
    throw std::runtime_error("cannot open the child's standard streams");
  }
  m_pid = fork();
  if (m_pid < 0) {
    throw std::runtime_error("fork failed");
  }
  if (m_pid == 0) {
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execve(exec.program(), exec.argv(), exec.envp());
    _exit(127);
  }
  close(in);
  close(out);
  close(err);
}

ChildProcess::~ChildProcess() {
  if (running()) {
    kill_and_wait();
  }
}

bool ChildProcess::running() {
  if (m_exit_code) {
    return false;
  }
  int status = 0;
  if (waitpid(m_pid, &status, WNOHANG) == m_pid) {
    m_exit_code = decode(status);
    return false;
  }
  return true;
}

int ChildProcess::kill_and_wait() {
  if (running()) {
    kill(m_pid, SIGKILL);
  }
  return wait();
}

int ChildProcess::wait() {
  if (!m_exit_code) {
    int status = 0;
    while (waitpid(m_pid, &status, 0) < 0 && errno == EINTR) {
    }
    m_exit_code = decode(status);
  }
  return *m_exit_code;
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return m_exit_code;
}

void ChildProcess::signal(int signal) {
  if (running()) {
    kill(m_pid, signal);
  }
}

std::string ChildProcess::out() const { return read_file(m_out_path); }
std::string ChildProcess::err() const { return read_file(m_err_path); }

}  // namespace testing_support
