#include "controller/telemetry/status_connection.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace controller::telemetry {

namespace asio = boost::asio;
using boost::system::error_code;

StatusConnection::StatusConnection(asio::ip::tcp::socket socket, const StatusSources& sources,
                                   ConnectionLimits limits, std::function<void()> on_closed)
    : m_socket(std::move(socket)),
      m_deadline(m_socket.get_executor()),
      m_sources(sources),
      m_limits(limits),
      m_on_closed(std::move(on_closed)) {}

StatusConnection::~StatusConnection() { m_on_closed(); }

void StatusConnection::start() {
  m_deadline.expires_after(m_limits.deadline);
  // Closing the socket ends whatever read or write is pending; the handlers
  // then let go of the connection and it is destroyed.
  m_deadline.async_wait([self = shared_from_this()](error_code error) {
    if (!error) {
      self->close();
    }
  });
  read_head();
}

void StatusConnection::read_head() {
  m_socket.async_read_some(asio::buffer(m_chunk), [self = shared_from_this()](error_code error, std::size_t count) {
    if (error) {
      self->close();
      return;
    }
    self->on_head_bytes(count);
  });
}

void StatusConnection::on_head_bytes(std::size_t count) {
  m_received.append(m_chunk.data(), count);
  const auto end = find_head_end(m_received);
  if (!end) {
    if (m_received.size() >= m_limits.max_request_head) {
      respond(plain_response(431, "request head too large\n"), true);
      return;
    }
    read_head();
    return;
  }
  if (*end > m_limits.max_request_head) {
    respond(plain_response(431, "request head too large\n"), true);
    return;
  }
  const auto request = parse_request_head(std::string_view(m_received).substr(0, *end));
  if (!request) {
    respond(plain_response(400, "bad request\n"), true);
    return;
  }
  respond(answer(*request, m_sources), request->method != "HEAD");
}

void StatusConnection::respond(const HttpResponse& response, bool with_body) {
  m_outgoing = serialize(response, with_body);
  m_received.clear();
  asio::async_write(m_socket, asio::buffer(m_outgoing), [self = shared_from_this()](error_code error, std::size_t) {
    if (error) {
      self->close();
      return;
    }
    // Half-close, then read until the client closes: closing with unread
    // bytes in the receive buffer would send a reset that can destroy the
    // answer before the client reads it (what a 431 would meet).
    error_code ignored;
    self->m_socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    self->drain();
  });
}

void StatusConnection::drain() {
  m_socket.async_read_some(asio::buffer(m_chunk), [self = shared_from_this()](error_code error, std::size_t) {
    if (error) {
      self->close();
      return;
    }
    self->drain();
  });
}

void StatusConnection::close() {
  error_code ignored;
  m_socket.close(ignored);
  m_deadline.cancel();
}

void refuse_connection(asio::ip::tcp::socket socket) {
  static const std::string k_answer = serialize(plain_response(503, "too many connections\n"), true);
  error_code ignored;
  socket.non_blocking(true, ignored);
  // Take in what the client already sent, so the close does not turn into a
  // reset that discards the answer; then one attempt at writing, no waiting.
  // Bounded, so a client streaming bytes cannot hold the server thread here.
  std::array<char, 4096> discard{};
  for (int round = 0; round < 16 && socket.available(ignored) > 0; ++round) {
    socket.read_some(asio::buffer(discard), ignored);
  }
  socket.write_some(asio::buffer(k_answer), ignored);
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace controller::telemetry
