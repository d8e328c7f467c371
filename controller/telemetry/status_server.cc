#include "controller/telemetry/status_server.h"

#include "controller/telemetry/status_connection.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cctype>
#include <optional>
#include <thread>

namespace controller::telemetry {

namespace asio = boost::asio;
using boost::system::error_code;
using model::Error;

namespace {

// How long to wait before accepting again after accept() failed (out of
// file descriptors, say): retrying at once would spin the thread.
constexpr std::chrono::milliseconds k_accept_retry{100};

tl::unexpected<Error> cannot_listen(const ListenAddress& address, const error_code& error) {
  Error::Kind kind = Error::Kind::transient;
  std::string why = error.message();
  if (error == asio::error::address_in_use) {
    kind = Error::Kind::conflict;
    why = "address already in use";
  } else if (error == asio::error::access_denied) {
    kind = Error::Kind::forbidden;
  } else if (error == boost::system::errc::address_not_available ||
             error == asio::error::address_family_not_supported) {
    kind = Error::Kind::invalid;
  }
  if (!why.empty()) {
    why[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(why[0])));
  }
  return model::fail(kind, "status server: cannot listen on " + to_string(address) + ": " + why);
}

}  // namespace

class StatusServer::Impl {
 public:
  explicit Impl(StatusServerOptions options) : m_options(std::move(options)) {}
  ~Impl() { stop(); }

  model::Result<void> start();
  void stop();
  std::uint16_t port() const { return m_port; }

 private:
  void accept();
  void on_accept(const error_code& error, asio::ip::tcp::socket socket);

  // Declared before the io_context: connections still held by its handlers
  // free their slot (m_active) when it is destroyed.
  const StatusServerOptions m_options;
  std::size_t m_active = 0;
  bool m_started = false;
  std::uint16_t m_port = 0;
  std::unique_ptr<asio::io_context> m_io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> m_work;
  std::optional<asio::ip::tcp::acceptor> m_acceptor;
  std::optional<asio::steady_timer> m_accept_retry;
  std::thread m_thread;
};

model::Result<void> StatusServer::Impl::start() {
  if (m_started) {
    return model::fail(Error::Kind::conflict, "status server: already started (a stopped server is not restarted)");
  }
  error_code error;
  const auto ip = asio::ip::make_address(m_options.address.ip, error);
  if (error) {
    return model::fail(Error::Kind::invalid, "status server: \"" + m_options.address.ip + "\" is not an IP address");
  }
  const asio::ip::tcp::endpoint endpoint(ip, m_options.address.port);
  m_io = std::make_unique<asio::io_context>();
  m_acceptor.emplace(*m_io);
  // SO_REUSEADDR lets a restarted mxctl bind while old connections linger in
  // TIME_WAIT; on Linux it still refuses a port another socket listens on.
  if (m_acceptor->open(endpoint.protocol(), error) ||
      m_acceptor->set_option(asio::socket_base::reuse_address(true), error) ||
      m_acceptor->bind(endpoint, error) || m_acceptor->listen(asio::socket_base::max_listen_connections, error)) {
    m_acceptor.reset();
    m_io.reset();
    return cannot_listen(m_options.address, error);
  }
  m_port = m_acceptor->local_endpoint(error).port();
  m_started = true;
  m_accept_retry.emplace(*m_io);
  m_work.emplace(m_io->get_executor());
  accept();
  m_thread = std::thread([this] {
    // A handler's exception must not end the process through this thread;
    // run() returns normally only once stop() asked it to.
    for (;;) {
      try {
        m_io->run();
        return;
      } catch (...) {
      }
    }
  });
  return {};
}

void StatusServer::Impl::accept() {
  m_acceptor->async_accept(
      [this](const error_code& error, asio::ip::tcp::socket socket) { on_accept(error, std::move(socket)); });
}

void StatusServer::Impl::on_accept(const error_code& error, asio::ip::tcp::socket socket) {
  if (error == asio::error::operation_aborted) {
    return;
  }
  if (error) {
    m_accept_retry->expires_after(k_accept_retry);
    m_accept_retry->async_wait([this](const error_code& waited) {
      if (!waited) {
        accept();
      }
    });
    return;
  }
  if (m_active >= m_options.max_connections) {
    refuse_connection(std::move(socket));
  } else {
    ++m_active;
    const ConnectionLimits limits{m_options.deadline, m_options.max_request_head};
    std::make_shared<StatusConnection>(std::move(socket), m_options.sources, limits, [this] { --m_active; })->start();
  }
  accept();
}

void StatusServer::Impl::stop() {
  if (!m_thread.joinable()) {
    return;
  }
  m_io->stop();
  m_thread.join();
  // With the thread gone nothing runs concurrently: close the listener, then
  // destroying the io_context destroys the pending handlers and with them
  // every connection, which closes its socket.
  m_accept_retry.reset();
  m_acceptor.reset();
  m_work.reset();
  m_io.reset();
}

StatusServer::StatusServer(StatusServerOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

StatusServer::~StatusServer() = default;

model::Result<void> StatusServer::start() { return m_impl->start(); }

std::uint16_t StatusServer::port() const { return m_impl->port(); }

void StatusServer::stop() { m_impl->stop(); }

}  // namespace controller::telemetry
