#include "tests/support/scripted_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace testing_support {

namespace {

const char* reason_of(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

ScriptedReply ScriptedReply::text(int status, const std::string& body) {
  return head(status, "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n")
      .send(body);
}

ScriptedReply ScriptedReply::json(int status, const nlohmann::json& body) { return text(status, body.dump()); }

ScriptedReply ScriptedReply::head(int status, const std::string& extra_headers) {
  ScriptedReply reply;
  reply.send("HTTP/1.1 " + std::to_string(status) + " " + reason_of(status) + "\r\n" + extra_headers + "\r\n");
  return reply;
}

ScriptedReply ScriptedReply::hang() {
  ScriptedReply reply;
  reply.then_hang();
  return reply;
}

ScriptedReply& ScriptedReply::send(std::string bytes) {
  m_steps.push_back({Step::Kind::send, std::move(bytes), 0, {}});
  return *this;
}

ScriptedReply& ScriptedReply::send_repeated(std::uint64_t count, char fill) {
  m_steps.push_back({Step::Kind::repeat, std::string(1, fill), count, {}});
  return *this;
}

ScriptedReply& ScriptedReply::pause(std::chrono::milliseconds duration) {
  m_steps.push_back({Step::Kind::pause, {}, 0, duration});
  return *this;
}

ScriptedReply& ScriptedReply::drip(const std::string& bytes, std::chrono::milliseconds interval) {
  for (char c : bytes) {
    send(std::string(1, c));
    pause(interval);
  }
  return *this;
}

ScriptedReply& ScriptedReply::close() {
  m_steps.push_back({Step::Kind::close, {}, 0, {}});
  return *this;
}

ScriptedReply& ScriptedReply::then_hang() {
  m_steps.push_back({Step::Kind::hang, {}, 0, {}});
  return *this;
}

ScriptedServer::ScriptedServer(Script script) : m_script(std::move(script)) {
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) {
    throw std::runtime_error("scripted server: socket failed");
  }
  int yes = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(m_listen_fd, 64) != 0) {
    ::close(m_listen_fd);
    throw std::runtime_error("scripted server: bind or listen failed");
  }
  socklen_t length = sizeof address;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
  m_port = ntohs(address.sin_port);
  m_acceptor = std::thread([this] { accept_loop(); });
}

ScriptedServer::~ScriptedServer() {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_stopping = true;
    // Wakes every blocked read and write; the threads close their sockets.
    for (int fd : m_connections) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }
  m_stopping_cv.notify_all();
  ::shutdown(m_listen_fd, SHUT_RDWR);
  m_acceptor.join();
  ::close(m_listen_fd);
  for (std::thread& thread : m_threads) {
    thread.join();
  }
}

std::string ScriptedServer::url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

std::vector<std::string> ScriptedServer::calls() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_calls;
}

std::size_t ScriptedServer::count() const {
  std::lock_guard<std::mutex> lock(m_mutex);
  return m_calls.size();
}

void ScriptedServer::accept_loop() {
  for (;;) {
    int fd = ::accept4(m_listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard<std::mutex> lock(m_mutex);
    if (fd < 0 || m_stopping) {
      if (fd >= 0) {
        ::close(fd);
      }
      if (m_stopping) {
        return;
      }
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    m_connections.push_back(fd);
    m_threads.emplace_back([this, fd] { serve(fd); });
  }
}

void ScriptedServer::serve(int fd) {
  std::string buffer;
  char chunk[4096];
  bool open = true;
  while (open) {
    // The head, then as much body as Content-Length says.
    std::size_t end = std::string::npos;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) {
        open = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
    if (!open) {
      break;
    }
    ScriptedRequest request;
    const std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    std::size_t first = request_line.find(' ');
    std::size_t second = request_line.find(' ', first + 1);
    request.method = request_line.substr(0, first);
    request.target = request_line.substr(first + 1, second - first - 1);
    for (std::size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
      std::size_t next = head.find("\r\n", pos + 2);
      const std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      if (auto colon = line.find(':'); colon != std::string::npos) {
        std::size_t value = line.find_first_not_of(' ', colon + 1);
        request.headers[lower(line.substr(0, colon))] = value == std::string::npos ? "" : line.substr(value);
      }
      pos = next;
    }
    std::size_t length = 0;
    if (auto found = request.headers.find("content-length"); found != request.headers.end()) {
      length = std::stoul(found->second);
    }
    while (buffer.size() < length) {
      ssize_t got = ::recv(fd, chunk, sizeof chunk, 0);
      if (got <= 0) {
        open = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
    if (!open) {
      break;
    }
    request.body = buffer.substr(0, length);
    buffer.erase(0, length);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_calls.push_back(request.method + " " + request.target);
    }
    open = play(fd, m_script(request));
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_connections.erase(std::remove(m_connections.begin(), m_connections.end(), fd), m_connections.end());
  ::close(fd);
}

bool ScriptedServer::play(int fd, const ScriptedReply& reply) {
  for (const ScriptedReply::Step& step : reply.steps()) {
    switch (step.kind) {
      case ScriptedReply::Step::Kind::send:
        if (!write_all(fd, step.bytes.data(), step.bytes.size())) {
          return false;
        }
        break;
      case ScriptedReply::Step::Kind::repeat: {
        const std::string piece(64 * 1024, step.bytes[0]);
        for (std::uint64_t left = step.count; left > 0;) {
          const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()));
          if (!write_all(fd, piece.data(), size)) {
            return false;
          }
          left -= size;
        }
        break;
      }
      case ScriptedReply::Step::Kind::pause:
        if (!wait(step.duration)) {
          return false;
        }
        break;
      case ScriptedReply::Step::Kind::close: return false;
      case ScriptedReply::Step::Kind::hang: wait(std::chrono::hours(24)); return false;
    }
  }
  return true;
}

bool ScriptedServer::wait(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(m_mutex);
  return !m_stopping_cv.wait_for(lock, duration, [this] { return m_stopping; });
}

bool ScriptedServer::write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    // MSG_NOSIGNAL: a client that hung up is an ordinary end, not SIGPIPE.
    ssize_t sent = ::send(fd, data, size, MSG_NOSIGNAL);
    if (sent <= 0) {
      return false;
    }
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return true;
}

}  // namespace testing_support
