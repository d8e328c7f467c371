#include "adapters/appdb/postgres_notifications.h"

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "adapters/appdb/app_database.h"

namespace adapters {

namespace {

using namespace std::chrono_literals;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// A connection listening on `channel`, or why there is none.
model::Result<PGconn*> listen(const std::string& conninfo, const std::string& channel) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  const std::string where = "database " + redact_database_uri(conninfo);
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string reason = conn != nullptr ? trimmed(PQerrorMessage(conn)) : "out of memory";
    PQfinish(conn);
    return model::fail(model::Error::Kind::transient, "cannot connect to " + where + " to listen: " + reason);
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  // The channel was checked to be a plain identifier: no quoting needed.
  PGresult* result = PQexec(conn, ("LISTEN " + channel).c_str());
  const bool ok = PQresultStatus(result) == PGRES_COMMAND_OK;
  std::string reason = ok ? "" : trimmed(PQerrorMessage(conn));
  PQclear(result);
  if (!ok) {
    PQfinish(conn);
    return model::fail(model::Error::Kind::invalid, "LISTEN " + channel + " on " + where + " failed: " + reason);
  }
  return conn;
}

}  // namespace

model::Result<std::unique_ptr<PostgresNotifications>> PostgresNotifications::start(const std::string& conninfo,
                                                                                   const std::string& channel,
                                                                                   std::function<void()> on_notify) {
  if (!valid_notify_channel(channel)) {
    return model::fail(model::Error::Kind::invalid,
                       "notify channel \"" + channel +
                           "\" is not a lower-case SQL identifier (a-z, 0-9, _; not starting with a digit)");
  }
  auto first = listen(conninfo, channel);
  if (!first) {
    return tl::unexpected(first.error());
  }
  const int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    PQfinish(*first);
    return model::fail(model::Error::Kind::transient, std::string("eventfd: ") + std::strerror(errno));
  }
  std::unique_ptr<PostgresNotifications> out(new PostgresNotifications(conninfo, channel, std::move(on_notify), wake));
  out->m_thread = std::thread([raw = out.get(), conn = *first] { raw->run(conn); });
  return out;
}

PostgresNotifications::PostgresNotifications(std::string conninfo, std::string channel,
                                             std::function<void()> on_notify, int wake)
    : m_conninfo(std::move(conninfo)), m_channel(std::move(channel)), m_on_notify(std::move(on_notify)), m_wake(wake) {}

PostgresNotifications::~PostgresNotifications() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(m_wake, &one, sizeof one);
  if (m_thread.joinable()) {
    m_thread.join();
  }
  ::close(m_wake);
}

void PostgresNotifications::run(void* first_connection) {
  PGconn* conn = static_cast<PGconn*>(first_connection);
  std::chrono::milliseconds backoff = 1s;
  for (;;) {
    if (conn == nullptr) {
      // Wait out the backoff (or a stop), then connect again.
      pollfd stop{m_wake, POLLIN, 0};
      if (::poll(&stop, 1, static_cast<int>(backoff.count())) > 0) {
        return;
      }
      auto again = listen(m_conninfo, m_channel);
      if (!again) {
        backoff = std::min(backoff * 2, std::chrono::milliseconds(60s));
        continue;
      }
      conn = *again;
      backoff = 1s;
      m_on_notify();  // whatever changed while disconnected
    }
    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {m_wake, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      break;
    }
    if (fds[1].revents != 0) {
      break;
    }
    if (PQconsumeInput(conn) == 0 || PQstatus(conn) != CONNECTION_OK) {
      PQfinish(conn);
      conn = nullptr;
      continue;
    }
    bool notified = false;
    while (PGnotify* notify = PQnotifies(conn)) {
      notified = true;
      PQfreemem(notify);
    }
    if (notified) {
      m_on_notify();
    }
  }
  PQfinish(conn);
}

}  // namespace adapters
