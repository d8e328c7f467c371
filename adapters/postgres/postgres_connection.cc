#include "adapters/postgres/postgres_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <memory>

#include "adapters/redact.h"

namespace adapters::postgres {

namespace {

using Clock = std::chrono::steady_clock;

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// Waits until `socket` is ready for `events` or `deadline` passes: false
// when it passed. A signal interrupting the wait resumes it.
bool wait_for(int socket, short events, Clock::time_point deadline) {
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      return false;
    }
    pollfd fd{socket, events, 0};
    int ready = ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, 1000LL * 60 * 60)));
    if (ready > 0) {
      return true;
    }
  }
}

// SQLSTATE classes and codes, from PostgreSQL's errcodes appendix.
model::Error::Kind kind_of(std::string_view sqlstate) {
  if (sqlstate.size() != 5) {
    return model::Error::Kind::invalid;
  }
  std::string_view error_class = sqlstate.substr(0, 2);
  if (error_class == "23") {  // integrity constraint violation
    return model::Error::Kind::conflict;
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03" || sqlstate == "57014" ||
      error_class == "08" || error_class == "53" || error_class == "57") {
    return model::Error::Kind::transient;
  }
  if (sqlstate == "42501" || error_class == "28") {
    return model::Error::Kind::forbidden;
  }
  return model::Error::Kind::invalid;
}

std::string milliseconds_text(std::chrono::milliseconds duration) {
  return std::to_string(duration.count()) + " ms";
}

}  // namespace

Connection::Connection(pg_conn* conn, std::string where, std::vector<std::string> secrets, Timeouts timeouts)
    : m_conn(conn), m_where(std::move(where)), m_secrets(std::move(secrets)), m_timeouts(timeouts) {
  m_backend_pid = PQbackendPID(m_conn);
}

Connection::~Connection() {
  if (m_conn != nullptr) {
    PQfinish(m_conn);
  }
}

model::Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo,
                                                            const std::string& application_name, Timeouts timeouts) {
  const std::string where = redact_database_uri(conninfo);
  // The password, wherever it was written, is what must never be printed.
  std::vector<std::string> secrets;
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string reason = trimmed(parse_error != nullptr ? parse_error : "cannot parse it");
    PQfreemem(parse_error);
    return model::fail(model::Error::Kind::invalid, "invalid database uri " + where + ": " + reason);
  }
  for (PQconninfoOption* option = parsed; option->keyword != nullptr; ++option) {
    if (std::string_view(option->keyword) == "password" && option->val != nullptr && *option->val != '\0') {
      secrets.emplace_back(option->val);
    }
  }
  PQconninfoFree(parsed);

  // Later keywords override what the expanded conninfo says. Keepalives
  // make a server that vanished without closing the socket an error within
  // seconds instead of a wait on the statement timeout alone.
  const char* keywords[] = {"dbname", "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
                            "keepalives_count", nullptr};
  const char* values[] = {conninfo.c_str(), application_name.c_str(), "1", "5", "2", "3", nullptr};
  std::unique_ptr<PGconn, void (*)(PGconn*)> conn(PQconnectStartParams(keywords, values, 1), PQfinish);
  auto failed = [&](const std::string& reason) {
    return model::fail(model::Error::Kind::transient,
                       redact("cannot connect to database " + where + ": " + trimmed(reason), secrets));
  };
  if (conn == nullptr) {
    return failed("out of memory");
  }
  if (PQstatus(conn.get()) == CONNECTION_BAD) {
    return failed(PQerrorMessage(conn.get()));
  }
  const auto deadline = Clock::now() + timeouts.connect;
  PostgresPollingStatusType polled = PGRES_POLLING_WRITING;
  while (polled != PGRES_POLLING_OK) {
    if (polled == PGRES_POLLING_FAILED) {
      return failed(PQerrorMessage(conn.get()));
    }
    // The socket may change between polls (another host of a list).
    short events = polled == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!wait_for(PQsocket(conn.get()), events, deadline)) {
      return failed("no answer within " + milliseconds_text(timeouts.connect));
    }
    polled = PQconnectPoll(conn.get());
  }
  if (PQsetnonblocking(conn.get(), 1) != 0) {
    return failed(PQerrorMessage(conn.get()));
  }
  // Server notices ("relation already exists, skipping") stay off stderr.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn.release(), where, std::move(secrets), timeouts));
}

bool Connection::usable() const { return m_conn != nullptr && PQstatus(m_conn) == CONNECTION_OK; }

bool Connection::in_transaction() const {
  if (m_conn == nullptr) {
    return false;
  }
  const PGTransactionStatusType status = PQtransactionStatus(m_conn);
  return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

void Connection::abandon(std::string why) {
  if (m_closed_because.empty()) {
    m_closed_because = trimmed(std::move(why));
  }
  if (m_conn != nullptr) {
    PQfinish(m_conn);
    m_conn = nullptr;
  }
}

model::Error Connection::lost_error(std::string_view doing) const {
  std::string why = m_closed_because.empty() ? std::string("the connection was lost") : m_closed_because;
  return model::make_error(model::Error::Kind::transient,
                           redact("cannot " + std::string(doing) + ": database " + m_where + ": " + why, m_secrets));
}

model::Result<Rows> Connection::query(std::string_view doing, const std::string& sql,
                                      const std::vector<Value>& params) {
  return run(m_timeouts.statement, doing, sql, &params);
}

model::Result<Rows> Connection::query_within(std::chrono::milliseconds timeout, std::string_view doing,
                                             const std::string& sql, const std::vector<Value>& params) {
  return run(timeout, doing, sql, &params);
}

model::Result<void> Connection::execute(std::string_view doing, const std::string& sql) {
  auto ran = run(m_timeouts.statement, doing, sql, nullptr);
  if (!ran) {
    return tl::unexpected(ran.error());
  }
  return {};
}

model::Result<Rows> Connection::run(std::chrono::milliseconds timeout, std::string_view doing,
                                    const std::string& sql, const std::vector<Value>* params) {
  if (m_conn != nullptr && PQstatus(m_conn) != CONNECTION_OK) {
    abandon(PQerrorMessage(m_conn));
  }
  if (m_conn == nullptr) {
    return tl::unexpected(lost_error(doing));
  }
  if (params != nullptr) {
    for (const Value& value : *params) {
      // libpq sends a text parameter up to its first NUL: the server would
      // store a shorter value than was given.
      if (value && value->find('\0') != std::string::npos) {
        return model::fail(model::Error::Kind::invalid,
                           "cannot " + std::string(doing) + ": a value holds a NUL character, which PostgreSQL text "
                                                            "cannot store");
      }
    }
  }
  const auto deadline = Clock::now() + timeout;
  int sent = 0;
  if (params == nullptr) {
    sent = PQsendQuery(m_conn, sql.c_str());
  } else {
    std::vector<const char*> values;
    values.reserve(params->size());
    for (const Value& value : *params) {
      values.push_back(value ? value->c_str() : nullptr);
    }
    sent = PQsendQueryParams(m_conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                             nullptr, 0);
  }
  if (sent == 0) {
    abandon(PQerrorMessage(m_conn));
    return tl::unexpected(lost_error(doing));
  }
  const std::string timed_out = "no answer within " + milliseconds_text(timeout) + "; the connection was closed";
  // Nonblocking: the query may not all be sent at once.
  for (int flushed = PQflush(m_conn); flushed != 0; flushed = PQflush(m_conn)) {
    if (flushed < 0 || !wait_for(PQsocket(m_conn), POLLIN | POLLOUT, deadline)) {
      abandon(flushed < 0 ? std::string(PQerrorMessage(m_conn)) : timed_out);
      return tl::unexpected(lost_error(doing));
    }
    if (PQconsumeInput(m_conn) == 0) {
      abandon(PQerrorMessage(m_conn));
      return tl::unexpected(lost_error(doing));
    }
  }
  Rows rows;
  std::optional<model::Error> failure;
  while (true) {
    while (PQisBusy(m_conn) != 0) {
      if (!wait_for(PQsocket(m_conn), POLLIN, deadline)) {
        abandon(timed_out);
        return tl::unexpected(lost_error(doing));
      }
      if (PQconsumeInput(m_conn) == 0) {
        abandon(PQerrorMessage(m_conn));
        return tl::unexpected(lost_error(doing));
      }
    }
    std::unique_ptr<PGresult, void (*)(PGresult*)> result(PQgetResult(m_conn), PQclear);
    if (result == nullptr) {
      break;
    }
    ExecStatusType status = PQresultStatus(result.get());
    if (status == PGRES_TUPLES_OK) {
      rows = Rows{};
      const int columns = PQnfields(result.get());
      for (int column = 0; column < columns; ++column) {
        rows.columns.emplace_back(PQfname(result.get(), column));
      }
      const int count = PQntuples(result.get());
      rows.rows.reserve(static_cast<std::size_t>(count));
      for (int row = 0; row < count; ++row) {
        std::vector<Value>& values = rows.rows.emplace_back();
        values.reserve(static_cast<std::size_t>(columns));
        for (int column = 0; column < columns; ++column) {
          if (PQgetisnull(result.get(), row, column) != 0) {
            values.emplace_back();
          } else {
            values.emplace_back(std::string(PQgetvalue(result.get(), row, column),
                                            static_cast<std::size_t>(PQgetlength(result.get(), row, column))));
          }
        }
      }
    } else if (status != PGRES_COMMAND_OK && status != PGRES_EMPTY_QUERY && !failure) {
      const char* sqlstate = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      const char* primary = PQresultErrorField(result.get(), PG_DIAG_MESSAGE_PRIMARY);
      std::string message = primary != nullptr ? primary : PQresultErrorMessage(result.get());
      failure = model::make_error(kind_of(sqlstate != nullptr ? sqlstate : ""),
                                  redact("cannot " + std::string(doing) + ": " + trimmed(message), m_secrets));
    }
  }
  if (PQstatus(m_conn) != CONNECTION_OK) {
    abandon(PQerrorMessage(m_conn));
    return tl::unexpected(failure && failure->kind == model::Error::Kind::transient ? *failure : lost_error(doing));
  }
  if (failure) {
    return tl::unexpected(*failure);
  }
  return rows;
}

}  // namespace adapters::postgres
