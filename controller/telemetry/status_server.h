#pragma once
// The HTTP status endpoint of `mxctl run`: /metrics for Prometheus, /healthz
// and /readyz for probes. It runs on a thread of its own so a stuck pass
// never stops a scrape, and it is built to survive whatever a client on the
// network does: heads are bounded, every connection has a deadline, the
// number of connections is capped, and each connection serves one request.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "controller/telemetry/listen_address.h"
#include "controller/telemetry/status_routes.h"
#include "model/result.h"

namespace controller::telemetry {

/// How the status server listens and what it answers with.
struct StatusServerOptions {
  /// Where to listen; port 0 takes any free port (see StatusServer::port()).
  ListenAddress address{"127.0.0.1", 0};
  /// The callbacks behind /metrics and /readyz (see StatusSources).
  StatusSources sources;
  /// From accept to the last byte: a client that has not sent its whole
  /// request head and read the answer by then is disconnected.
  std::chrono::milliseconds deadline{5000};
  /// Connections served at once; any beyond get a 503 and are closed.
  std::size_t max_connections = 32;
  /// The longest request head (request line and headers) read; beyond it
  /// the answer is 431 and the connection is closed.
  std::size_t max_request_head = 8 * 1024;
};

/// The server. Not copyable; start() and stop() from the owning thread,
/// never from inside a StatusSources callback.
class StatusServer {
 public:
  /// A server that does nothing until start().
  explicit StatusServer(StatusServerOptions options);
  /// stop().
  ~StatusServer();
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  /// Binds, listens and starts serving on the server's own thread. Fails with
  /// `conflict` when the address is in use or on a second call (a stopped
  /// server is not restarted), `forbidden` for a privileged port, `invalid`
  /// when the address is not this host's or its family is unsupported.
  model::Result<void> start();

  /// The port listened on once start() succeeded (the chosen one for port
  /// 0); 0 before.
  std::uint16_t port() const;

  /// Stops listening, drops every connection, and joins the server thread;
  /// returns promptly whatever clients are doing. Idempotent.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace controller::telemetry
