// `mxctl state migrate`: a SQLite store copied into a PostgreSQL one. The
// source is read on a connection of its own in one read transaction (one
// snapshot of every table), the destination written on a connection of its
// own in one transaction, while both stores' pass locks are held through
// their stores. Rows move as text (the two schemas store times and digests
// the same way), blobs as hex; each table's rows go as one text[] per
// column, unnested, in batches of bounded size.

#include "adapters/store/store_migration.h"

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/redact.h"
#include "adapters/sha256.h"
#include "adapters/state_store.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

namespace {
// Named, so that a library built in batches of files (unity builds) does
// not mix these helpers with another store file's.
namespace migration {

// How a column is stored in PostgreSQL; SQLite's values arrive as text.
enum class Type { text, integer, bigint, bytea };

struct Column {
  std::string_view name;
  Type type;
};

struct Table {
  std::string_view name;
  // Its id is an identity column there (AUTOINCREMENT here).
  bool identity;
  std::vector<Column> columns;
};

// Every table of the SQLite store at its current schema (12) but the lock
// and meta, in the order copied: runs before the journal, which refers to
// them. The PostgreSQL store's version 1 has the same tables and columns.
const std::vector<Table>& copied_tables() {
  static const std::vector<Table> k_tables = {
      {"runs",
       true,
       {{"id", Type::bigint},
        {"command", Type::text},
        {"started", Type::text},
        {"finished", Type::text},
        {"outcome", Type::text},
        {"changes_applied", Type::integer},
        {"failures", Type::integer}}},
      {"journal",
       true,
       {{"id", Type::bigint},
        {"run_id", Type::bigint},
        {"operation", Type::text},
        {"result", Type::text},
        {"errcode", Type::text},
        {"message", Type::text},
        {"attempt", Type::integer},
        {"at", Type::text}}},
      {"audit",
       true,
       {{"id", Type::bigint},
        {"run_id", Type::bigint},
        {"at", Type::text},
        {"action", Type::text},
        {"key", Type::text},
        {"target", Type::text},
        {"before", Type::text},
        {"after", Type::text},
        {"result", Type::text},
        {"message", Type::text}}},
      {"rooms", false, {{"key", Type::text}, {"room_id", Type::text}, {"updated_at", Type::text}}},
      {"messages_sent", false, {{"key", Type::text}, {"sent_at", Type::text}}},
      {"directs_set", false, {{"room_key", Type::text}, {"user_id", Type::text}, {"set_at", Type::text}}},
      {"accounts",
       false,
       {{"key", Type::text}, {"user_id", Type::text}, {"provisioned_at", Type::text}, {"suspended", Type::integer}}},
      {"archives", false, {{"key", Type::text}, {"room_id", Type::text}, {"archived_at", Type::bigint}}},
      {"tombstones",
       true,
       {{"id", Type::bigint},
        {"key", Type::text},
        {"room_id", Type::text},
        {"archived_at", Type::bigint},
        {"deleted_at", Type::bigint}}},
      {"protected", false, {{"address", Type::text}, {"since", Type::text}}},
      {"room_snapshots",
       false,
       {{"room_id", Type::text}, {"digest", Type::text}, {"updated_at", Type::text}, {"state", Type::text}}},
      {"room_reads", false, {{"room_id", Type::text}, {"digest", Type::text}, {"read", Type::bytea}}},
      {"rooms_written", false, {{"room_id", Type::text}, {"written_at", Type::text}}},
      {"appservice_transactions",
       true,
       {{"id", Type::bigint}, {"txn_id", Type::text}, {"received_at", Type::text}}},
      {"compiled_desired", false, {{"id", Type::integer}, {"digest", Type::text}, {"state", Type::bytea}}},
      {"converged_verdict",
       false,
       {{"id", Type::integer},
        {"key", Type::text},
        {"valid_until", Type::bigint},
        {"replay_paths", Type::text},
        {"replay_digest", Type::text}}},
  };
  return k_tables;
}

// The destination's audit rows about its own lock (taken over, removed):
// not contents, since an interrupted migration leaves its lock behind for
// the next one to take over.
const char* const k_lock_events = "key = 'lock' AND run_id = 0";

// What no statement should grow past (a table of snapshots can be large).
constexpr std::size_t k_copy_batch_bytes = 4 * 1024 * 1024;

std::string identifier(std::string_view name) { return "\"" + std::string(name) + "\""; }

// SELECT of the table's columns from SQLite, in the order written.
std::string source_select(const Table& table) {
  std::string columns;
  for (const Column& column : table.columns) {
    columns += (columns.empty() ? "" : ", ") + identifier(column.name);
  }
  return "SELECT " + columns + " FROM " + identifier(table.name) + " ORDER BY rowid";
}

// INSERT of one batch into PostgreSQL: a text[] per column, unnested and
// cast to the column's type; ids as they were.
std::string destination_insert(const Table& table) {
  std::string columns;
  std::string values;
  std::string arrays;
  std::string names;
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const Column& column = table.columns[i];
    const std::string separator = i == 0 ? "" : ", ";
    const std::string item = "item.c" + std::to_string(i);
    columns += separator + identifier(column.name);
    arrays += separator + "$" + std::to_string(i + 1) + "::text[]";
    names += separator + "c" + std::to_string(i);
    switch (column.type) {
      case Type::text: values += separator + item; break;
      case Type::integer: values += separator + item + "::integer"; break;
      case Type::bigint: values += separator + item + "::bigint"; break;
      case Type::bytea: values += separator + "decode(" + item + ", 'hex')"; break;
    }
  }
  return "INSERT INTO mxctl." + identifier(table.name) + " (" + columns + ")" +
         (table.identity ? " OVERRIDING SYSTEM VALUE" : "") + " SELECT " + values + " FROM unnest(" + arrays +
         ") AS item (" + names + ")";
}

// The columns of the rows of one batch as text[] literals: each element
// quoted with \ and " escaped, so any text arrives as itself; NULL bare.
class Batch {
 public:
  explicit Batch(std::size_t columns) : m_arrays(columns, "{") {}

  void add(std::size_t column, const std::optional<std::string>& value) {
    std::string& array = m_arrays.at(column);
    const std::size_t before = array.size();
    if (m_rows > 0) {
      array += ',';
    }
    if (!value) {
      array += "NULL";
    } else {
      array += '"';
      for (char c : *value) {
        if (c == '\\' || c == '"') {
          array += '\\';
        }
        array += c;
      }
      array += '"';
    }
    m_bytes += array.size() - before;
  }
  void end_row() { ++m_rows; }

  std::size_t rows() const { return m_rows; }
  bool full() const { return m_bytes >= k_copy_batch_bytes; }

  // The parameters of the INSERT; the batch is empty again.
  std::vector<postgres::Value> take() {
    std::vector<postgres::Value> params;
    params.reserve(m_arrays.size());
    for (std::string& array : m_arrays) {
      params.emplace_back(std::exchange(array, "{") + "}");
    }
    m_rows = 0;
    m_bytes = 0;
    return params;
  }

 private:
  std::vector<std::string> m_arrays;
  std::size_t m_rows = 0;
  std::size_t m_bytes = 0;
};

// The meta row, as both engines hold it; compared whole.
struct Meta {
  std::string sync_token;
  std::int64_t serial = 0;
  std::string probe_key;
  std::string probe_answer;
  std::int64_t probe_taken_at = 0;
  bool operator==(const Meta&) const = default;
};

// One audit row of the destination's own lock, moved past the copied ones.
struct LockEvent {
  std::vector<postgres::Value> values;  // run_id, at, action, key, target, before, after, result, message
};

std::int64_t to_int64(const postgres::Value& value) {
  try {
    return value ? std::stoll(*value) : 0;
  } catch (const std::exception&) {
    return -1;
  }
}

// Runs `sql` and takes its one row of values.
model::Result<std::vector<postgres::Value>> one_row(postgres::Connection& db, std::string_view doing,
                                                    const std::string& sql,
                                                    const std::vector<postgres::Value>& params = {}) {
  auto rows = db.query(doing, sql, params);
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.size() != 1) {
    return model::fail(model::Error::Kind::invalid,
                       "cannot " + std::string(doing) + ": expected one row, got " + std::to_string(rows->rows.size()));
  }
  return std::move(rows->rows.front());
}

model::Result<Meta> destination_meta(postgres::Connection& db) {
  auto row = one_row(db, "read the destination's meta row",
                     "SELECT sync_token, serial, probe_key, probe_answer, probe_taken_at FROM mxctl.meta WHERE id = 1");
  if (!row) {
    return tl::unexpected(row.error());
  }
  return Meta{row->at(0).value_or(""), to_int64(row->at(1)), row->at(2).value_or(""), row->at(3).value_or(""),
              to_int64(row->at(4))};
}

// Rows per table in the destination; the audit's counts the lock events
// only when `with_lock_events`.
model::Result<std::map<std::string, std::int64_t>> destination_counts(postgres::Connection& db,
                                                                      bool with_lock_events) {
  std::string sql;
  for (const Table& table : copied_tables()) {
    sql += (sql.empty() ? "" : " UNION ALL ") + std::string("SELECT '") + std::string(table.name) +
           "', count(*) FROM mxctl." + identifier(table.name);
    if (table.name == "audit" && !with_lock_events) {
      sql += std::string(" WHERE NOT (") + k_lock_events + ")";
    }
  }
  auto rows = db.query("count the destination's rows", sql);
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  std::map<std::string, std::int64_t> counts;
  for (const auto& row : rows->rows) {
    counts[row.at(0).value_or("")] = to_int64(row.at(1));
  }
  return counts;
}

// "runs: 3 rows, audit: 12 rows" of every table holding any.
std::string describe_contents(const std::map<std::string, std::int64_t>& counts) {
  std::string out;
  for (const Table& table : copied_tables()) {
    const auto found = counts.find(std::string(table.name));
    if (found != counts.end() && found->second != 0) {
      out += (out.empty() ? "" : ", ") + found->first + ": " + std::to_string(found->second) +
             (found->second == 1 ? " row" : " rows");
    }
  }
  return out;
}

// What the destination holds besides what a fresh store holds, described;
// empty when nothing.
model::Result<std::string> destination_contents(postgres::Connection& db) {
  auto counts = destination_counts(db, false);
  if (!counts) {
    return tl::unexpected(counts.error());
  }
  std::string contents = describe_contents(*counts);
  auto meta = destination_meta(db);
  if (!meta) {
    return tl::unexpected(meta.error());
  }
  if (!(*meta == Meta{})) {
    contents += std::string(contents.empty() ? "" : ", ") + "an earlier pass's sync token, probe or serial";
  }
  return contents;
}

// The source: a connection of its own, reading one snapshot of the file.
class Source {
 public:
  static model::Result<Source> open(const std::string& path) {
    auto db = sqlite::Database::open(path, "read state store " + path, SQLITE_OPEN_READONLY);
    if (!db) {
      return tl::unexpected(db.error());
    }
    sqlite3_busy_timeout((*db)->handle(), 5000);
    // Every read until the end sees the file as it was at the first one.
    if (auto begun = (*db)->exec("BEGIN", "read state store " + path); !begun) {
      return tl::unexpected(begun.error());
    }
    return Source(std::move(*db), path);
  }

  sqlite::Database& db() { return *m_db; }

  model::Result<std::int64_t> count(const Table& table) {
    const std::string sql = "SELECT count(*) FROM " + identifier(table.name);
    return m_db->query_int64(sql.c_str(), "count the rows of " + std::string(table.name) + " in " + m_path);
  }

  // The highest id the table ever gave out (AUTOINCREMENT remembers ids
  // whose rows are gone); 0 when none.
  model::Result<std::int64_t> highest_id(const Table& table) {
    const std::string name(table.name);
    const std::string sql = "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '" + name +
                            "'), 0), coalesce((SELECT max(id) FROM " + identifier(name) + "), 0))";
    return m_db->query_int64(sql.c_str(), "read the highest id of " + name + " in " + m_path);
  }

  model::Result<Meta> meta() {
    const std::string doing = "read the meta row of " + m_path;
    auto stmt = m_db->prepare(
        "SELECT sync_token, serial, probe_key, probe_answer, probe_taken_at FROM meta WHERE id = 1", doing);
    if (!stmt) {
      return tl::unexpected(stmt.error());
    }
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return model::fail(model::Error::Kind::invalid,
                         "cannot " + doing + ": the store has no meta row; it is damaged");
    }
    return Meta{stmt->text(0), stmt->int64(1), stmt->text(2), stmt->text(3), stmt->int64(4)};
  }

 private:
  Source(std::shared_ptr<sqlite::Database> db, std::string path) : m_db(std::move(db)), m_path(std::move(path)) {}

  std::shared_ptr<sqlite::Database> m_db;
  std::string m_path;
};

// Streams `table`'s rows from the source into the destination; how many.
model::Result<std::int64_t> copy_rows(Source& source, postgres::Connection& db, const Table& table) {
  const std::string name(table.name);
  const std::string reading = "read " + name + " to copy it";
  const std::string writing = "copy " + name;
  const std::string select = source_select(table);
  const std::string insert = destination_insert(table);
  auto stmt = source.db().prepare(select.c_str(), reading);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  Batch batch(table.columns.size());
  std::int64_t copied = 0;
  auto send = [&]() -> model::Result<void> {
    const std::size_t rows = batch.rows();
    auto ran = db.query(writing, insert, batch.take());
    if (!ran) {
      return tl::unexpected(ran.error());
    }
    copied += static_cast<std::int64_t>(rows);
    return {};
  };
  for (;;) {
    auto row = stmt->step(reading);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      break;
    }
    for (std::size_t i = 0; i < table.columns.size(); ++i) {
      const int index = static_cast<int>(i);
      const Column& column = table.columns[i];
      if (stmt->is_null(index)) {
        batch.add(i, std::nullopt);
        continue;
      }
      if (column.type == Type::bytea) {
        batch.add(i, lower_hex(stmt->blob(index)));
        continue;
      }
      // Integers as SQLite spells them; one that is not an integer fails
      // the cast there rather than arriving as something else.
      std::string text = stmt->text(index);
      if (text.find('\0') != std::string::npos) {
        return model::fail(model::Error::Kind::invalid, "cannot " + writing + ": a value of " + name + "." +
                                                            std::string(column.name) +
                                                            " holds a NUL byte, which PostgreSQL cannot store");
      }
      batch.add(i, text);
    }
    batch.end_row();
    if (batch.full()) {
      if (auto sent = send(); !sent) {
        return tl::unexpected(sent.error());
      }
    }
  }
  if (batch.rows() > 0) {
    if (auto sent = send(); !sent) {
      return tl::unexpected(sent.error());
    }
  }
  return copied;
}

// Per table, where the destination's count differs from the source's
// (`expected`); empty when none does.
std::string count_differences(const std::map<std::string, std::int64_t>& expected,
                              const std::map<std::string, std::int64_t>& found) {
  std::string out;
  for (const auto& [name, rows] : expected) {
    const auto there = found.find(name);
    const std::int64_t got = there == found.end() ? -1 : there->second;
    if (got != rows) {
      out += (out.empty() ? "" : ", ") + name + " has " + std::to_string(got) + " rows, the source " +
             std::to_string(rows);
    }
  }
  return out;
}

// What a failure before the commit changed in the destination: nothing,
// unless opening it made the (still empty) store.
std::string nothing_copied(const std::string& destination, bool created) {
  return created ? "nothing was copied (" + destination + " holds an empty state store now)"
                 : "nothing was changed in " + destination;
}

model::Error not_empty(const std::string& contents) {
  return model::make_error(model::Error::Kind::conflict,
                           "the state store there is not empty (" + contents +
                               "); state migrate fills only an empty store: give --to a database without one, or "
                               "drop schema mxctl there if that store is not needed");
}

// The whole copy, once both locks are held and nothing else can write
// either store.
class StoreCopy {
 public:
  // `locks_held` confirms both pass locks before the copy is committed.
  StoreCopy(Source& source, postgres::Connection& db, std::string path, std::string destination, bool created,
            std::function<bool()> locks_held)
      : m_source(source),
        m_db(db),
        m_path(std::move(path)),
        m_destination(std::move(destination)),
        m_created(created),
        m_locks_held(std::move(locks_held)) {}

  model::Result<StoreMigration> run() {
    if (auto begun = m_db.execute("begin the copy", "BEGIN"); !begun) {
      return failed(begun.error());
    }
    // Under the lock: what the check before it found still holds.
    auto contents = destination_contents(m_db);
    if (!contents) {
      return failed(contents.error());
    }
    if (!contents->empty()) {
      return failed(not_empty(*contents));
    }
    auto moved = take_lock_events();
    if (!moved) {
      return failed(moved.error());
    }
    StoreMigration out;
    out.source = m_path;
    out.destination = m_destination;
    std::map<std::string, std::int64_t> expected;
    for (const Table& table : copied_tables()) {
      auto copied = copy_rows(m_source, m_db, table);
      if (!copied) {
        return failed(copied.error());
      }
      auto rows = m_source.count(table);
      if (!rows) {
        return failed(rows.error());
      }
      if (*copied != *rows) {
        return failed(model::make_error(model::Error::Kind::invalid,
                                        "read " + std::to_string(*copied) + " rows of " + std::string(table.name) +
                                            ", but the source counts " + std::to_string(*rows)));
      }
      if (table.identity) {
        if (auto continued = continue_ids(table); !continued) {
          return failed(continued.error());
        }
      }
      out.tables.push_back({std::string(table.name), *rows});
      expected[std::string(table.name)] = *rows;
    }
    if (auto put_back = put_back_lock_events(*moved); !put_back) {
      return failed(put_back.error());
    }
    expected["audit"] += static_cast<std::int64_t>(moved->size());
    auto meta = m_source.meta();
    if (!meta) {
      return failed(meta.error());
    }
    if (auto written = write_meta(*meta); !written) {
      return failed(written.error());
    }
    if (auto same = compare(expected, *meta, "the copy"); !same) {
      return failed(same.error());
    }
    // A lock lost meanwhile (its session ended) may have let a pass in.
    if (!m_locks_held()) {
      return failed(model::make_error(model::Error::Kind::transient,
                                      "a pass lock this migration held was lost during the copy; try again"));
    }
    if (auto committed = m_db.execute("commit the copy", "COMMIT"); !committed) {
      if (!m_db.usable()) {
        model::Error error = committed.error();
        error.message = "state migrate from " + m_path + " to " + m_destination + ": " + error.message +
                        "; whether the copy was committed is not known: run state migrate again, which "
                        "copies into a store that does not hold it and refuses one that does";
        return tl::unexpected(std::move(error));
      }
      return failed(committed.error());
    }
    // Once more as others see it: what was committed is what was meant.
    if (auto same = compare(expected, *meta, "the committed copy"); !same) {
      model::Error error = same.error();
      error.message = "state migrate from " + m_path + " to " + m_destination + ": " + error.message +
                      "; the copy was committed but is not the source's: do not use " + m_destination +
                      " as the state store";
      return tl::unexpected(std::move(error));
    }
    out.serial = meta->serial;
    return out;
  }

 private:
  // `error`, the transaction rolled back, saying what was changed: nothing.
  tl::unexpected<model::Error> failed(model::Error error) {
    if (m_db.in_transaction()) {
      (void)m_db.execute("roll back the copy", "ROLLBACK");
    }
    error.message = "state migrate from " + m_path + " to " + m_destination + ": " + error.message + "; " +
                    nothing_copied(m_destination, m_created);
    return tl::unexpected(std::move(error));
  }

  // The destination's own lock events, deleted to be put back after the
  // copied audit log (whose ids they may hold).
  model::Result<std::vector<LockEvent>> take_lock_events() {
    auto rows = m_db.query("set the destination's lock events aside",
                           std::string("WITH moved AS (DELETE FROM mxctl.audit WHERE ") + k_lock_events +
                               " RETURNING id, run_id, at, action, key, target, before, after, result, message) "
                               "SELECT run_id, at, action, key, target, before, after, result, message FROM moved "
                               "ORDER BY id");
    if (!rows) {
      return tl::unexpected(rows.error());
    }
    std::vector<LockEvent> events;
    for (auto& row : rows->rows) {
      events.push_back({std::move(row)});
    }
    return events;
  }

  model::Result<void> put_back_lock_events(const std::vector<LockEvent>& events) {
    for (const LockEvent& event : events) {
      auto ran = m_db.query("put the destination's lock events back",
                            "INSERT INTO mxctl.audit (run_id, at, action, key, target, before, after, result, "
                            "message) VALUES ($1::bigint, $2, $3, $4, $5, $6, $7, $8, $9)",
                            event.values);
      if (!ran) {
        return tl::unexpected(ran.error());
      }
    }
    return {};
  }

  // The id sequence of `table` moves past every id the source gave out, so
  // new rows get ids above them, as in the source.
  model::Result<void> continue_ids(const Table& table) {
    auto highest = m_source.highest_id(table);
    if (!highest) {
      return tl::unexpected(highest.error());
    }
    if (*highest <= 0) {
      return {};
    }
    auto set = m_db.query("continue the ids of " + std::string(table.name),
                          "SELECT setval(pg_get_serial_sequence($1, 'id'), $2::bigint)",
                          {"mxctl." + std::string(table.name), std::to_string(*highest)});
    if (!set) {
      return tl::unexpected(set.error());
    }
    return {};
  }

  // Last, so the serial the inserts' triggers moved is set to the source's.
  // The serial goes in a statement of its own: the trigger on the sync
  // token fires on the statement that sets the token.
  model::Result<void> write_meta(const Meta& meta) {
    auto token = one_row(m_db, "copy the sync token and probe",
                         "UPDATE mxctl.meta SET sync_token = $1, probe_key = $2, probe_answer = $3, "
                         "probe_taken_at = $4::bigint WHERE id = 1 RETURNING id",
                         {meta.sync_token, meta.probe_key, meta.probe_answer, std::to_string(meta.probe_taken_at)});
    if (!token) {
      return tl::unexpected(token.error());
    }
    auto serial = one_row(m_db, "copy the serial",
                          "UPDATE mxctl.meta SET serial = $1::bigint WHERE id = 1 RETURNING id",
                          {std::to_string(meta.serial)});
    if (!serial) {
      return tl::unexpected(serial.error());
    }
    return {};
  }

  model::Result<void> compare(const std::map<std::string, std::int64_t>& expected, const Meta& meta,
                              const std::string& what) {
    auto counts = destination_counts(m_db, true);
    if (!counts) {
      return tl::unexpected(counts.error());
    }
    if (std::string differences = count_differences(expected, *counts); !differences.empty()) {
      return model::fail(model::Error::Kind::invalid,
                         what + " does not hold the source's rows: " + differences);
    }
    auto there = destination_meta(m_db);
    if (!there) {
      return tl::unexpected(there.error());
    }
    if (!(*there == meta)) {
      return model::fail(model::Error::Kind::invalid,
                         what + " does not hold the source's meta row (serial " + std::to_string(there->serial) +
                             ", the source's " + std::to_string(meta.serial) + ")");
    }
    return {};
  }

  Source& m_source;
  postgres::Connection& m_db;
  std::string m_path;
  std::string m_destination;
  bool m_created;
  std::function<bool()> m_locks_held;
};

}  // namespace migration
}  // namespace

std::int64_t StoreMigration::total_rows() const {
  std::int64_t total = 0;
  for (const MigratedTable& table : tables) {
    total += table.rows;
  }
  return total;
}

model::Result<StoreMigration> migrate_sqlite_store_to_postgres(const std::string& sqlite_path,
                                                               const std::string& postgres_uri,
                                                               const StoreMigrationOptions& options) {
  const std::string destination = redact_database_uri(postgres_uri);
  const std::string unchanged = "; nothing was changed";
  auto refuse = [&](model::Error error, const std::string& after) {
    error.message = "state migrate from " + sqlite_path + " to " + destination + ": " + error.message + after;
    return tl::unexpected(std::move(error));
  };
  if (!is_postgres_store(postgres_uri)) {
    return model::fail(model::Error::Kind::invalid,
                       "state migrate copies into PostgreSQL: the destination must be a postgresql:// or "
                       "postgres:// URI, not " + destination + unchanged);
  }
  if (is_postgres_store(sqlite_path)) {
    return model::fail(model::Error::Kind::invalid,
                       "state migrate copies a SQLite store: the source must be a SQLite file, not the PostgreSQL "
                       "database " + redact_database_uri(sqlite_path) + unchanged);
  }
  // Opening would make a new, empty store at a mistyped path.
  std::error_code missing;
  if (!std::filesystem::is_regular_file(sqlite_path, missing)) {
    return model::fail(model::Error::Kind::invalid,
                       "there is no state store at " + sqlite_path + " to migrate (give --state the SQLite file)" +
                           unchanged);
  }

  // The source: checked and brought to its current schema, then locked so
  // that no pass writes it until the copy is done.
  auto source_store = SqliteStateStore::open(sqlite_path);
  if (!source_store) {
    return refuse(source_store.error(), unchanged + " in " + destination);
  }
  auto source_lock = (*source_store)->lock("state migrate");
  if (!source_lock) {
    return refuse(source_lock.error(), unchanged + " in " + destination);
  }
  auto source = migration::Source::open(sqlite_path);
  if (!source) {
    return refuse(source.error(), unchanged + " in " + destination);
  }

  // The destination: made or brought to its schema by opening it, checked
  // empty before its lock is taken (taking it writes), and locked.
  PostgresStoreOptions store_options;
  store_options.timeouts = options.timeouts;
  auto target_store = PostgresStateStore::open(postgres_uri, store_options);
  if (!target_store) {
    return refuse(target_store.error(), unchanged + " in " + destination);
  }
  const bool created = (*target_store)->created();
  const std::string nothing_copied = "; " + migration::nothing_copied(destination, created);
  auto db = postgres::Connection::open(postgres_uri, "mxctl state migrate", options.timeouts);
  if (!db) {
    return refuse(db.error(), nothing_copied);
  }
  auto contents = migration::destination_contents(**db);
  if (!contents) {
    return refuse(contents.error(), nothing_copied);
  }
  if (!contents->empty()) {
    return refuse(migration::not_empty(*contents), nothing_copied);
  }
  auto target_lock = (*target_store)->lock("state migrate");
  if (!target_lock) {
    return refuse(target_lock.error(), nothing_copied);
  }

  // Released (the destination's first) when this returns.
  migration::StoreCopy copy(*source, **db, sqlite_path, destination, created,
                            [&] { return (*source_lock)->still_held() && (*target_lock)->still_held(); });
  return copy.run();
}

}  // namespace adapters
