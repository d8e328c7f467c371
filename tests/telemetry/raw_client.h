#pragma once
// A TCP client on raw sockets for what an HTTP library will not do on
// purpose: send half a request and stall, send an endless head, hold a
// connection open doing nothing. Every wait is bounded (k_patience), so a
// server that misbehaves fails the test instead of hanging it.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace telemetry_testing {

/// How long any wait on the server may take before the test gives up: far
/// beyond what a healthy server needs, even on a loaded machine.
constexpr std::chrono::seconds k_patience{20};

/// What a read until the server closed the connection saw.
struct Received {
  std::string bytes;    ///< everything that arrived
  bool closed = false;  ///< the server closed (or reset) the connection within k_patience
  bool reset = false;   ///< it ended with a reset, which may destroy an answer unread
};

/// One connection to 127.0.0.1.
class RawClient {
 public:
  /// Connects to 127.0.0.1:`port`; throws std::runtime_error when it cannot.
  explicit RawClient(std::uint16_t port) : m_fd(socket(AF_INET, SOCK_STREAM, 0)) {
    if (m_fd < 0) {
      throw std::runtime_error("socket failed");
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(m_fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      ::close(m_fd);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  /// Sends all of `bytes`; false when the connection is gone.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto sent = ::send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(sent));
    }
    return true;
  }

  /// Reads until the server closes the connection, for at most `patience`.
  Received read_until_closed(std::chrono::milliseconds patience = k_patience) {
    Received received;
    const auto give_up = std::chrono::steady_clock::now() + patience;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - std::chrono::steady_clock::now());
      pollfd readable{m_fd, POLLIN, 0};
      if (left.count() < 0 || poll(&readable, 1, static_cast<int>(left.count())) <= 0) {
        return received;  // out of patience: still open
      }
      char buffer[4096];
      const auto got = recv(m_fd, buffer, sizeof buffer, 0);
      if (got <= 0) {
        received.closed = true;
        received.reset = got < 0 && errno == ECONNRESET;
        return received;
      }
      received.bytes.append(buffer, static_cast<std::size_t>(got));
    }
  }

  /// True when the server has closed the connection already (nothing waited for).
  bool closed_now() {
    pollfd readable{m_fd, POLLIN, 0};
    if (poll(&readable, 1, 0) <= 0) {
      return false;
    }
    char byte;
    return recv(m_fd, &byte, 1, MSG_PEEK) <= 0;
  }

  /// Closes our end (idempotent).
  void close() {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

 private:
  int m_fd;
};

/// `request` sent on a fresh connection, and everything the server answered
/// until it closed the connection.
inline Received exchange(std::uint16_t port, std::string_view request) {
  RawClient client(port);
  client.send(request);
  return client.read_until_closed();
}

}  // namespace telemetry_testing
