#pragma once
// A connection to the community app's own database (FT-17), the second
// source of desired state beside manifests. Two engines sit behind one small
// interface: SQLite (`sqlite:///path/app.db`) and PostgreSQL through libpq
// (`postgresql://…`, `postgres://…`, or a `host=… dbname=…` conninfo string;
// libpq fills the rest from the PG* environment and ~/.pgpass).
//
// Values come back typed (integer, real, text, boolean, null) so the mapping
// layer can say "wrong type" precisely, whatever the engine.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/redact.h"
#include "model/result.h"

namespace adapters {

/// One cell of a result row.
struct DbValue {
  enum class Type { null, integer, real, text, boolean };
  Type type = Type::null;
  long long integer = 0;
  double real = 0;
  bool boolean = false;
  /// The text for `text`; for other types the engine's own rendering.
  std::string text;

  /// Constructors of each type; `text` is filled with the value's rendering
  /// (`rendered` as the engine printed a real) so messages can quote it.
  static DbValue null_value();
  static DbValue of_integer(long long value);
  static DbValue of_real(double value, std::string rendered);
  static DbValue of_text(std::string value);
  static DbValue of_boolean(bool value);
  /// SQL NULL.
  bool is_null() const { return type == Type::null; }
};

/// "integer", "real", "text", "boolean" or "null", as errors name types.
const char* to_string(DbValue::Type type);

/// The result of one query: column names in the order the query returns them.
struct DbRows {
  std::vector<std::string> columns;
  std::vector<std::vector<DbValue>> rows;
};

/// Which engine a URI names.
enum class DbEngine { sqlite, postgresql };

/// An open connection. Not thread-safe; one pass uses one connection.
class AppDatabase {
 public:
  virtual ~AppDatabase() = default;
  /// Starts the read-only snapshot every query of one pass runs in (SQLite:
  /// one read transaction; PostgreSQL: REPEATABLE READ READ ONLY), so a pass
  /// never mixes two states of the app.
  virtual model::Result<void> begin_snapshot() = 0;
  /// Starts a read-write transaction (write-back).
  virtual model::Result<void> begin_write() = 0;
  /// Commits the open transaction.
  virtual model::Result<void> commit() = 0;
  /// Rolls back whatever transaction is open; harmless when none is.
  virtual void rollback() = 0;
  /// Runs one statement. Parameters are written `$1`, `$2`… on both engines
  /// and bound as text (nullopt binds NULL). Errors carry the engine's
  /// message with any password redacted.
  virtual model::Result<DbRows> query(const std::string& sql,
                                      const std::vector<std::optional<std::string>>& params = {}) = 0;
  /// Runs a script of several statements without parameters (the shipped
  /// schema and sample data; tests).
  virtual model::Result<void> execute_script(const std::string& sql) = 0;
  /// Which engine this is (for the few places SQL must differ).
  virtual DbEngine engine() const = 0;
  /// A cheap token of what this connection can see committed: it differs
  /// from an earlier token of the same connection whenever data was
  /// committed in between by anyone else (it may also differ when nothing
  /// was). Call outside a transaction. An error: treat as changed.
  virtual model::Result<std::string> change_token() = 0;
};

/// Opens the database `uri` names. `sqlite:///abs/path`, `sqlite://rel/path`
/// and `sqlite:path` open a SQLite file that must exist (read-only unless
/// `writable`); `postgresql://`, `postgres://` or anything containing '='
/// goes to libpq. An unknown scheme is `invalid`; a connection failure is
/// `transient` with the redacted URI and the engine's reason. Never throws.
model::Result<std::unique_ptr<AppDatabase>> open_app_database(const std::string& uri, bool writable);

/// Engine-specific constructors behind open_app_database: a SQLite file
/// path (must exist), or a libpq URI or conninfo string.
model::Result<std::unique_ptr<AppDatabase>> open_sqlite_app_database(const std::string& path, bool writable);
model::Result<std::unique_ptr<AppDatabase>> open_postgres_app_database(const std::string& conninfo);

}  // namespace adapters
