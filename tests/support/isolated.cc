#include "tests/support/isolated.h"

#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>

namespace testing_support {

namespace {

void write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t written = ::write(fd, data.data() + done, data.size() - done);
    if (written < 0 && errno == EINTR) {
      continue;
    }
    if (written <= 0) {
      return;
    }
    done += static_cast<std::size_t>(written);
  }
}

// The address space the process has mapped so far, 0 if unknown. Under
// AddressSanitizer that is terabytes of reserved shadow memory already.
rlim_t mapped_bytes() {
  unsigned long pages = 0;
  if (FILE* statm = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(statm, "%lu", &pages) != 1) {
      pages = 0;
    }
    std::fclose(statm);
  }
  return static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
}

[[noreturn]] void run_child(int fd, const std::function<std::string()>& work) {
  // A bound on growth, not on the total, so it means the same with sanitizers.
  constexpr rlim_t k_growth = rlim_t{1} << 30;
  const rlim_t bound = mapped_bytes() + k_growth;
  const rlimit memory{bound, bound};
  ::setrlimit(RLIMIT_AS, &memory);
  write_all(fd, work());
  ::close(fd);
  // No destructors or atexit handlers of the parent's copy: only the result.
  ::_exit(0);
}

}  // namespace

Isolated run_isolated(const std::function<std::string()>& work, std::chrono::milliseconds limit) {
  int fds[2];
  if (::pipe(fds) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(fds[1], work);
  }
  ::close(fds[1]);
  Isolated result;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool open = true;
  while (open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      result.status = Isolated::Status::timed_out;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd readable{fds[0], POLLIN, 0};
    const int ready = ::poll(&readable, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (ready <= 0) {
      continue;
    }
    char buffer[65536];
    const ssize_t got = ::read(fds[0], buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      open = false;
    } else {
      result.output.append(buffer, static_cast<std::size_t>(got));
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (result.status == Isolated::Status::done) {
    if (WIFSIGNALED(status)) {
      result.status = Isolated::Status::crashed;
      result.how = "signal " + std::to_string(WTERMSIG(status));
    } else if (WEXITSTATUS(status) != 0) {
      result.status = Isolated::Status::crashed;
      result.how = "exit " + std::to_string(WEXITSTATUS(status));
    }
  }
  return result;
}

}  // namespace testing_support
