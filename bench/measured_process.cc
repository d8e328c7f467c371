#include "bench/measured_process.h"

#include "tests/support/exec_args.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bench {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

double ms_of(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1000.0 + static_cast<double>(tv.tv_usec) / 1000.0;
}

}  // namespace

Measured run_measured(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                      const std::string& scratch_dir) {
  const testing_support::ExecArgs exec(argv, env);

  std::string out_path = scratch_dir + "/run.out";
  std::string err_path = scratch_dir + "/run.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  auto started = std::chrono::steady_clock::now();
  pid_t pid = 0;
  int spawned = posix_spawn(&pid, exec.program(), &actions, nullptr, exec.argv(), exec.envp());
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(spawned));
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) {
      throw std::runtime_error("wait4 failed: " + std::string(std::strerror(errno)));
    }
  }
  Measured measured;
  measured.wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  measured.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  measured.user_ms = ms_of(usage.ru_utime);
  measured.system_ms = ms_of(usage.ru_stime);
  measured.max_rss_kb = usage.ru_maxrss;
  measured.out = slurp(out_path);
  measured.err = slurp(err_path);
  return measured;
}

}  // namespace bench
