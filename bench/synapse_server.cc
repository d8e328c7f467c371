#include "bench/synapse_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "bench/measured_process.h"

namespace bench {

namespace {

// A loopback port free at the moment: the kernel's pick for port 0.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    if (fd >= 0) {
      ::close(fd);
    }
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string last_line(const std::string& text) {
  std::string trimmed = text;
  while (!trimmed.empty() && (trimmed.back() == '\n' || trimmed.back() == '\r' || trimmed.back() == ' ')) {
    trimmed.pop_back();
  }
  const std::size_t start = trimmed.rfind('\n');
  return start == std::string::npos ? trimmed : trimmed.substr(start + 1);
}

}  // namespace

SynapseServer::SynapseServer(const std::string& scripts_dir, const std::string& dir)
    : m_scripts(scripts_dir), m_dir(dir) {
  std::filesystem::create_directories(m_dir);
  const std::string scratch = std::filesystem::path(m_dir).parent_path().string();
  Measured started = run_measured({m_scripts + "/start", m_dir, std::to_string(free_port())}, {}, scratch);
  if (started.exit_code != 0) {
    throw std::runtime_error("Synapse did not start (" + m_scripts + "/start " + m_dir + "):\n" + started.out +
                             started.err);
  }
  m_url = last_line(started.out);
  std::ifstream pid_file(m_dir + "/synapse.pid");
  if (!(pid_file >> m_pid)) {
    m_pid = -1;
  }
  Measured admin = run_measured({m_scripts + "/make-admin", m_dir, "mxctl"}, {}, scratch);
  m_token = last_line(admin.out);
  if (admin.exit_code != 0 || m_token.empty()) {
    run_measured({m_scripts + "/stop", m_dir}, {}, scratch);  // no destructor runs for a throwing constructor
    throw std::runtime_error("cannot make the bot a Synapse admin:\n" + admin.out + admin.err);
  }
  m_version = homeserver_version(m_url, m_token);
}

SynapseServer::~SynapseServer() {
  try {
    run_measured({m_scripts + "/stop", m_dir}, {}, std::filesystem::path(m_dir).parent_path().string());
  } catch (const std::exception&) {
    // Nothing more to do: the directory says which process to stop by hand.
  }
}

}  // namespace bench
