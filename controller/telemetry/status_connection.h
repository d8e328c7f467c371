#pragma once
// One client connection of the status server (internal to status_server.cc):
// read one request head within the limits, answer it, close. Lives as long
// as an Asio handler holds it; everything runs on the server's thread.

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "controller/telemetry/http_wire.h"
#include "controller/telemetry/status_routes.h"

namespace controller::telemetry {

/// The bounds every connection is held to.
struct ConnectionLimits {
  std::chrono::milliseconds deadline;  ///< from accept to close
  std::size_t max_request_head;        ///< bytes of request line and headers
};

/// A connection being served.
class StatusConnection : public std::enable_shared_from_this<StatusConnection> {
 public:
  /// Serves `socket` with answers from `sources` (which must outlive it);
  /// `on_closed` runs when the connection is destroyed, to free its slot.
  StatusConnection(boost::asio::ip::tcp::socket socket, const StatusSources& sources, ConnectionLimits limits,
                   std::function<void()> on_closed);
  /// Runs `on_closed` (the socket closes with the object).
  ~StatusConnection();
  StatusConnection(const StatusConnection&) = delete;
  StatusConnection& operator=(const StatusConnection&) = delete;

  /// Arms the deadline and starts reading; call once, on a shared_ptr.
  void start();

 private:
  void read_head();
  void on_head_bytes(std::size_t count);
  void respond(const HttpResponse& response, bool with_body);
  void drain();
  void close();

  boost::asio::ip::tcp::socket m_socket;
  boost::asio::steady_timer m_deadline;
  const StatusSources& m_sources;
  const ConnectionLimits m_limits;
  std::function<void()> m_on_closed;
  std::string m_received;
  std::string m_outgoing;
  std::array<char, 2048> m_chunk{};
};

/// Answers a connection beyond the cap with a 503 and closes it, without
/// waiting on the client for anything (a blocked write is given up).
void refuse_connection(boost::asio::ip::tcp::socket socket);

}  // namespace controller::telemetry
