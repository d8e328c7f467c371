#pragma once
// One libpq connection whose every wait is bounded: connecting, and each
// statement. A statement that does not answer in time, or a connection the
// server ended, leaves the connection closed for good (usable() false): no
// later call can act on a session whose state is unknown, and a session
// ended on the server has lost whatever it held (advisory locks, an open
// transaction). Reconnecting is the caller's choice, with a new Connection.

#include <charconv>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/result.h"

struct pg_conn;

namespace adapters::postgres {

/// A value sent or read in PostgreSQL's text format; nullopt is NULL.
using Value = std::optional<std::string>;

/// What a statement returned, every value as text.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;
};

/// How long a connection waits for the server.
struct Timeouts {
  /// Connecting, the TLS handshake and authentication included.
  std::chrono::milliseconds connect{10000};
  /// One statement, from sending it to its last result.
  std::chrono::milliseconds statement{30000};
};

/// A connection to one PostgreSQL database. Not thread-safe.
class Connection {
 public:
  /// Connects to `conninfo` (a postgresql:// URI or "key=value" pairs) as
  /// `application_name` (what pg_stat_activity shows), with TCP keepalives
  /// so a vanished server is noticed. Errors name the database with any
  /// password redacted: `invalid` for a conninfo libpq cannot parse,
  /// `transient` when the server cannot be reached or refuses in time.
  static model::Result<std::unique_ptr<Connection>> open(const std::string& conninfo,
                                                          const std::string& application_name,
                                                          Timeouts timeouts = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one statement with `params` ($1, $2, ... in `sql`) and returns its
  /// rows (none for a command), waiting at most the statement timeout.
  /// Errors read "cannot <doing>: <server's message>" and are classified by
  /// SQLSTATE: unique violations `conflict`; serialization failures,
  /// deadlocks, lock and query timeouts and a lost connection `transient`;
  /// missing privileges `forbidden`; the rest `invalid`. A parameter
  /// holding a NUL character (which text cannot store) is `invalid`,
  /// refused before anything is sent.
  model::Result<Rows> query(std::string_view doing, const std::string& sql, const std::vector<Value>& params = {});
  /// query() with its own bound on the wait.
  model::Result<Rows> query_within(std::chrono::milliseconds timeout, std::string_view doing, const std::string& sql,
                                   const std::vector<Value>& params = {});
  /// Runs `sql`, which may hold several statements and no parameters (a
  /// migration, BEGIN, COMMIT), within the statement timeout.
  model::Result<void> execute(std::string_view doing, const std::string& sql);

  /// False once the connection was lost, ended by the server, or closed
  /// after a wait ran out; every call then fails as `transient`.
  bool usable() const;
  /// A transaction is open on the session (begun and not yet ended).
  bool in_transaction() const;
  /// Why the connection is no longer usable; empty while it is.
  const std::string& closed_because() const { return m_closed_because; }
  /// The session's server process id (pg_backend_pid()).
  int backend_pid() const { return m_backend_pid; }
  /// The database, password redacted, for messages.
  const std::string& where() const { return m_where; }

 private:
  Connection(pg_conn* conn, std::string where, std::vector<std::string> secrets, Timeouts timeouts);
  // Sends, then reads every result until the last, within `timeout`.
  model::Result<Rows> run(std::chrono::milliseconds timeout, std::string_view doing, const std::string& sql,
                          const std::vector<Value>* params);
  // Closes the connection for good, remembering `why`.
  void abandon(std::string why);
  model::Error lost_error(std::string_view doing) const;

  pg_conn* m_conn;
  std::string m_where;
  std::vector<std::string> m_secrets;
  Timeouts m_timeouts;
  int m_backend_pid = 0;
  std::string m_closed_because;
};

/// What a statement run for its effect returned: nothing, or its error.
inline model::Result<void> without_rows(const model::Result<Rows>& rows) {
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  return {};
}

/// The whole integer a column holds; nothing for NULL, an empty text, text
/// around the digits, or a number out of Integer's range. Stores read their
/// integers back through this, so damage is never taken for another value.
template <typename Integer>
std::optional<Integer> integer_value(const Value& value) {
  Integer out{};
  if (!value || value->empty()) {
    return std::nullopt;
  }
  const char* end = value->data() + value->size();
  auto [stop, error] = std::from_chars(value->data(), end, out);
  if (error != std::errc() || stop != end) {
    return std::nullopt;
  }
  return out;
}

}  // namespace adapters::postgres
