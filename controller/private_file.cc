#include "controller/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace controller {

std::string write_private(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return "cannot write " + path + ": " + std::strerror(errno);
  }
  std::string problem;
  if (::fchmod(fd, 0600) != 0) {
    problem = "cannot make " + path + " private (chmod 600): " + std::strerror(errno);
  }
  for (std::size_t done = 0; problem.empty() && done < text.size();) {
    const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
    if (wrote < 0 && errno != EINTR) {
      problem = "cannot write " + path + ": " + std::strerror(errno);
    }
    done += wrote > 0 ? static_cast<std::size_t>(wrote) : 0;
  }
  if (::close(fd) != 0 && problem.empty()) {
    problem = "cannot write " + path + ": " + std::strerror(errno);
  }
  return problem;
}

}  // namespace controller
