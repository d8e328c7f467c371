// The PostgreSQL engine of AppDatabase, through libpq. Results are read in
// text format and typed by the column's type oid.

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>

#include "adapters/appdb/app_database.h"
#include "adapters/redact.h"

namespace adapters {

namespace {

// Built-in type oids (pg_type.h); stable across PostgreSQL versions.
constexpr Oid k_bool = 16;
constexpr Oid k_int8 = 20;
constexpr Oid k_int2 = 21;
constexpr Oid k_int4 = 23;
constexpr Oid k_float4 = 700;
constexpr Oid k_float8 = 701;
constexpr Oid k_numeric = 1700;

class PostgresAppDatabase final : public AppDatabase {
 public:
  PostgresAppDatabase(PGconn* conn, std::vector<std::string> secrets) : m_conn(conn), m_secrets(std::move(secrets)) {}
  ~PostgresAppDatabase() override { PQfinish(m_conn); }
  PostgresAppDatabase(const PostgresAppDatabase&) = delete;
  PostgresAppDatabase& operator=(const PostgresAppDatabase&) = delete;

  model::Result<void> begin_snapshot() override {
    return command("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin a read transaction");
  }
  model::Result<void> begin_write() override { return command("BEGIN", "begin a write transaction"); }
  model::Result<void> commit() override { return command("COMMIT", "commit"); }
  void rollback() override {
    if (PQtransactionStatus(m_conn) != PQTRANS_IDLE) {
      PQclear(PQexec(m_conn, "ROLLBACK"));
    }
  }

  model::Result<DbRows> query(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params) override {
    std::vector<const char*> values;
    for (const auto& param : params) {
      values.push_back(param ? param->c_str() : nullptr);
    }
    PGresult* result = PQexecParams(m_conn, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                    nullptr, nullptr, 0);
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return tl::unexpected(error("sql error", result));
    }
    DbRows out;
    int columns = PQnfields(result);
    for (int c = 0; c < columns; ++c) {
      out.columns.emplace_back(PQfname(result, c));
    }
    for (int r = 0; r < PQntuples(result); ++r) {
      std::vector<DbValue> row;
      for (int c = 0; c < columns; ++c) {
        row.push_back(value(result, r, c));
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  model::Result<void> execute_script(const std::string& sql) override { return command(sql, "run the script"); }

  DbEngine engine() const override { return DbEngine::postgresql; }

  // The current snapshot (running transactions and the next id to come)
  // changes the moment any transaction with writes ends, commit or not, in
  // any database of the cluster: other databases' writes cost a load,
  // nothing is missed, and it works on a standby. Rejected: the
  // pg_stat_user_tables counters lag (flushed up to seconds late, not at
  // all with track_counts off, blind to TRUNCATE), so a token could be
  // taken after a commit and before its count; the WAL position moves when
  // the commit record is written, before the commit is visible, so a load
  // between the two misses a change the token already holds. Before
  // PostgreSQL 13 the function is missing: no token, every poll loads.
  model::Result<std::string> change_token() override {
    auto snapshot = query("SELECT pg_current_snapshot()::text", {});
    if (!snapshot) {
      return tl::unexpected(snapshot.error());
    }
    if (snapshot->rows.size() != 1 || snapshot->rows[0].size() != 1) {
      return model::fail(model::Error::Kind::invalid, "pg_current_snapshot() returned no value");
    }
    return snapshot->rows[0][0].text;
  }

 private:
  static DbValue value(PGresult* result, int row, int column) {
    if (PQgetisnull(result, row, column) != 0) {
      return DbValue::null_value();
    }
    std::string text = PQgetvalue(result, row, column);
    switch (PQftype(result, column)) {
      case k_bool:
        return DbValue::of_boolean(text == "t");
      case k_int2:
      case k_int4:
      case k_int8: {
        // Checked, never wrapped or clamped: int8 always fits, but a value
        // that did not would reach the mapping as a number out of range.
        long long number = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (error == std::errc() && end == text.data() + text.size()) {
          return DbValue::of_integer(number);
        }
        return DbValue::of_real(std::strtod(text.c_str(), nullptr), text);
      }
      case k_float4:
      case k_float8:
      case k_numeric:
        // The text is kept: a whole numeric is read from it exactly, at 64
        // bits, not through a double (RowReader::integer).
        return DbValue::of_real(std::strtod(text.c_str(), nullptr), text);
      default:
        // text, varchar, uuid, json(b), timestamps: all read as text.
        return DbValue::of_text(std::move(text));
    }
  }

  model::Error error(const std::string& doing, PGresult* result) const {
    std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(m_conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    bool lost = PQstatus(m_conn) != CONNECTION_OK;
    return model::make_error(lost ? model::Error::Kind::transient : model::Error::Kind::invalid,
                             redact(doing + ": " + message, m_secrets));
  }

  model::Result<void> command(const std::string& sql, const std::string& doing) {
    PGresult* result = PQexec(m_conn, sql.c_str());
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return tl::unexpected(error("cannot " + doing, result));
    }
    return {};
  }

  PGconn* m_conn;
  std::vector<std::string> m_secrets;
};

}  // namespace

model::Result<std::unique_ptr<AppDatabase>> open_postgres_app_database(const std::string& conninfo) {
  // The password, wherever it was written, is what must never be printed.
  std::vector<std::string> secrets;
  char* parse_error = nullptr;
  if (PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error); options != nullptr) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      if (std::string(option->keyword) == "password" && option->val != nullptr && *option->val != '\0') {
        secrets.emplace_back(option->val);
      }
    }
    PQconninfoFree(options);
  } else {
    std::string reason = parse_error != nullptr ? parse_error : "cannot parse";
    PQfreemem(parse_error);
    while (!reason.empty() && reason.back() == '\n') {
      reason.pop_back();
    }
    return model::fail(model::Error::Kind::invalid,
                       "invalid database uri " + redact_database_uri(conninfo) + ": " + reason);
  }
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
    std::string reason = conn != nullptr ? PQerrorMessage(conn) : "out of memory";
    PQfinish(conn);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) {
      reason.pop_back();
    }
    return model::fail(model::Error::Kind::transient,
                       redact("cannot connect to database " + redact_database_uri(conninfo) + ": " + reason, secrets));
  }
  // Keep server notices (e.g. "table does not exist, skipping") off stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<AppDatabase>(std::make_unique<PostgresAppDatabase>(conn, std::move(secrets)));
}

}  // namespace adapters
