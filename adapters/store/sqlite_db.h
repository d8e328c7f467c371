#pragma once
// Small RAII wrappers over the sqlite3 C API, so that no handle leaks on an
// early return and every failure becomes a model::Error that says what was
// being done ("cannot record room id for community/x: database is locked").
// Header-only and private to the SQLite adapters and their tests.

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/store/sqlite_checksum_vfs.h"
#include "model/result.h"

namespace adapters::sqlite {

/// How an SQLite result code is classified for callers deciding whether to
/// retry: busy/locked are transient (another connection holds the write
/// lock), constraint violations are conflicts, permission problems are
/// forbidden, and everything else (I/O, corruption, misuse) is terminal.
inline model::Error::Kind error_kind(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return model::Error::Kind::transient;
    case SQLITE_CONSTRAINT:
      return model::Error::Kind::conflict;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return model::Error::Kind::forbidden;
    default:
      return model::Error::Kind::invalid;
  }
}

/// The refusal of a damaged store: what SQLite found (`detail`) and the way
/// out (another --state, or a new store rebuilt from the rooms' markers).
inline std::string damaged_store_message(std::string_view detail) {
  return "the state store is damaged (" + std::string(detail) +
         "); mxctl will not use it. Move the file aside (keep it: it holds the audit log) and run again: a new "
         "store is rebuilt from the rooms' markers (room ids, archive dates, protection). Or give --state a copy "
         "you trust";
}

/// SQLite's codes for a file whose content is not what was written: a
/// broken structure, or a page whose checksum does not match.
inline bool is_damage(int code) {
  return (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB || code == SQLITE_IOERR_DATA;
}

/// "cannot <doing>: <detail>", classified by `code`. Damage found while
/// reading says what to do about it, wherever it is found.
inline model::Error make_error(int code, std::string_view doing, std::string_view detail) {
  const std::string what = is_damage(code) ? damaged_store_message(detail) : std::string(detail);
  return model::make_error(error_kind(code), "cannot " + std::string(doing) + ": " + what);
}

/// One prepared statement; finalized when destroyed. Bind errors are kept and
/// reported by the next step(), so binding reads as a plain sequence.
class Statement {
 public:
  /// Takes ownership of `stmt`, prepared on `db`; finalizes it when destroyed.
  Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
  /// Borrows `stmt`, which a statement cache keeps, and marks it `in_use`
  /// until destroyed; then it is reset, its bindings cleared, and returned.
  static Statement borrowed(sqlite3* db, sqlite3_stmt* stmt, bool* in_use) {
    Statement statement(db, stmt);
    statement.m_in_use = in_use;
    *in_use = true;
    return statement;
  }
  Statement(Statement&& other) noexcept
      : m_db(other.m_db),
        m_stmt(std::exchange(other.m_stmt, nullptr)),
        m_bind_error(other.m_bind_error),
        m_in_use(std::exchange(other.m_in_use, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    if (m_in_use == nullptr) {
      sqlite3_finalize(m_stmt);
      return;
    }
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
    *m_in_use = false;
  }

  /// Binds text to the 1-based parameter `index` (copied by SQLite).
  Statement& bind_text(int index, std::string_view text) {
    keep(sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
  }
  /// Binds bytes as a BLOB to the 1-based parameter `index` (copied by SQLite).
  Statement& bind_blob(int index, std::string_view bytes) {
    keep(sqlite3_bind_blob64(m_stmt, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
    return *this;
  }
  /// Binds an integer to the 1-based parameter `index`.
  Statement& bind_int64(int index, std::int64_t value) {
    keep(sqlite3_bind_int64(m_stmt, index, value));
    return *this;
  }

  /// Advances: true when a row is ready to read, false when the statement is
  /// done; an error (naming `doing`) otherwise, including an earlier bind error.
  model::Result<bool> step(std::string_view doing) {
    if (m_bind_error != SQLITE_OK) {
      return tl::unexpected(make_error(m_bind_error, doing, sqlite3_errstr(m_bind_error)));
    }
    int code = sqlite3_step(m_stmt);
    if (code == SQLITE_ROW) {
      return true;
    }
    if (code == SQLITE_DONE) {
      return false;
    }
    return tl::unexpected(make_error(sqlite3_extended_errcode(m_db), doing, sqlite3_errmsg(m_db)));
  }

  /// Runs a statement that returns no rows; returns how many rows it changed.
  model::Result<int> run(std::string_view doing) {
    auto stepped = step(doing);
    if (!stepped) {
      return tl::unexpected(stepped.error());
    }
    return sqlite3_changes(m_db);
  }

  /// Column `index` (0-based) of the current row as text; empty for NULL.
  std::string text(int index) const {
    const unsigned char* value = sqlite3_column_text(m_stmt, index);
    if (value == nullptr) {
      return "";
    }
    return std::string(reinterpret_cast<const char*>(value), static_cast<size_t>(sqlite3_column_bytes(m_stmt, index)));
  }
  /// Column `index` (0-based) of the current row as bytes (a BLOB as
  /// stored; other types as SQLite converts them); empty for NULL.
  std::string blob(int index) const {
    const void* value = sqlite3_column_blob(m_stmt, index);
    if (value == nullptr) {
      return "";
    }
    return std::string(static_cast<const char*>(value), static_cast<size_t>(sqlite3_column_bytes(m_stmt, index)));
  }
  /// Column `index` (0-based) of the current row as an integer; 0 for NULL.
  std::int64_t int64(int index) const { return sqlite3_column_int64(m_stmt, index); }
  /// True when column `index` (0-based) of the current row is NULL.
  bool is_null(int index) const { return sqlite3_column_type(m_stmt, index) == SQLITE_NULL; }

 private:
  void keep(int code) {
    if (code != SQLITE_OK && m_bind_error == SQLITE_OK) {
      m_bind_error = code;
    }
  }

  sqlite3* m_db;
  sqlite3_stmt* m_stmt;
  int m_bind_error = SQLITE_OK;
  // Set for a borrowed statement: its cache entry's in-use mark.
  bool* m_in_use = nullptr;
};

/// One connection; closed when destroyed. Shared (std::shared_ptr) by
/// whatever must outlive the object that opened it, such as a held lock.
class Database {
 public:
  /// Opens (creating when missing) the database at `path` through the
  /// checksumming VFS (sqlite_checksum_vfs.h); ":memory:" gives a private
  /// in-memory database. `flags` are sqlite3_open_v2's (a reader may ask
  /// for SQLITE_OPEN_READONLY | SQLITE_OPEN_URI). Fails naming `doing` with
  /// SQLite's reason.
  static model::Result<std::shared_ptr<Database>> open(const std::string& path, std::string_view doing,
                                                       int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    sqlite3* handle = nullptr;
    int code = sqlite3_open_v2(path.c_str(), &handle, flags, checksum_vfs());
    // SQLite hands back a handle even on failure (it carries the message),
    // so the wrapper takes ownership before looking at the result.
    auto db = std::shared_ptr<Database>(new Database(handle));
    if (code != SQLITE_OK) {
      const char* detail = handle != nullptr ? sqlite3_errmsg(handle) : sqlite3_errstr(code);
      return tl::unexpected(make_error(code, doing, detail));
    }
    sqlite3_extended_result_codes(handle, 1);
    return db;
  }

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() {
    for (auto& [sql, kept] : m_cache) {
      sqlite3_finalize(kept.stmt);
    }
    sqlite3_close_v2(m_db);
  }

  /// The raw handle, for the few calls the wrappers do not cover.
  sqlite3* handle() const { return m_db; }

  /// Prepares one statement; values must be bound, never spliced into `sql`.
  model::Result<Statement> prepare(const char* sql, std::string_view doing) {
    sqlite3_stmt* stmt = nullptr;
    int code = sqlite3_prepare_v2(m_db, sql, -1, &stmt, nullptr);
    if (code != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return tl::unexpected(make_error(code, doing, sqlite3_errmsg(m_db)));
    }
    return Statement(m_db, stmt);
  }

  /// Like prepare, but the statement is compiled once per connection and
  /// kept: a write made for every operation of an apply would otherwise
  /// parse and plan the same SQL each time. While the kept statement is
  /// borrowed (a nested use of the same SQL) a fresh one is prepared instead.
  model::Result<Statement> cached(std::string_view sql, std::string_view doing) {
    auto found = m_cache.find(sql);
    if (found == m_cache.end()) {
      sqlite3_stmt* stmt = nullptr;
      int code = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                                    nullptr);
      if (code != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return tl::unexpected(make_error(code, doing, sqlite3_errmsg(m_db)));
      }
      found = m_cache.emplace(std::string(sql), Kept{stmt, false}).first;
    }
    if (found->second.in_use) {
      return prepare(std::string(sql).c_str(), doing);
    }
    return Statement::borrowed(m_db, found->second.stmt, &found->second.in_use);
  }

  /// Runs fixed SQL returning one integer (a count, a pragma); 0 when it
  /// returns no row.
  model::Result<std::int64_t> query_int64(const char* sql, std::string_view doing) {
    auto stmt = prepare(sql, doing);
    if (!stmt) {
      return tl::unexpected(stmt.error());
    }
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    return *row ? stmt->int64(0) : 0;
  }

  /// Runs fixed SQL without parameters or results (schema, pragmas,
  /// transaction control); it may hold several statements.
  model::Result<void> exec(const char* sql, std::string_view doing) {
    char* detail = nullptr;
    int code = sqlite3_exec(m_db, sql, nullptr, nullptr, &detail);
    if (code != SQLITE_OK) {
      auto error = make_error(code, doing, detail != nullptr ? detail : sqlite3_errstr(code));
      sqlite3_free(detail);
      return tl::unexpected(std::move(error));
    }
    return {};
  }

 private:
  explicit Database(sqlite3* db) : m_db(db) {}

  // A statement kept by cached(), and whether it is lent out now.
  struct Kept {
    sqlite3_stmt* stmt;
    bool in_use;
  };

  sqlite3* m_db;
  // SQL text -> its kept statement; std::less<> so a lookup needs no copy.
  // A std::map, so the in_use marks lent out stay where they are.
  std::map<std::string, Kept, std::less<>> m_cache;
};

/// Steps `stmt` to the end, handing each row to `take`; the first error
/// (naming `doing`) otherwise.
template <typename Take>
model::Result<void> for_each_row(Statement& stmt, std::string_view doing, Take take) {
  for (;;) {
    auto row = stmt.step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return {};
    }
    take(stmt);
  }
}

/// Prepares `sql` (cached), lets `bind` fill its parameters and runs it once.
template <typename Bind>
model::Result<void> run_statement(Database& db, const char* sql, std::string_view doing, Bind bind) {
  auto stmt = db.cached(sql, doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  bind(*stmt);
  if (auto ran = stmt->run(doing); !ran) {
    return tl::unexpected(ran.error());
  }
  return {};
}

/// The first column of every row of `sql` (cached, no parameters), as a set.
inline model::Result<std::set<std::string>> read_text_set(Database& db, const char* sql, std::string_view doing) {
  auto stmt = db.cached(sql, doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::set<std::string> out;
  auto read = for_each_row(*stmt, doing, [&](Statement& row) { out.insert(row.text(0)); });
  if (!read) {
    return tl::unexpected(read.error());
  }
  return out;
}

/// A write transaction (BEGIN IMMEDIATE, so the write lock is taken up front
/// and a busy database fails at begin rather than half-way through); rolled
/// back when destroyed without commit(). Inside a transaction that is already
/// open (the state store's group commit) it is a savepoint instead: its
/// statements still succeed or fail together, and become durable when the
/// outer transaction commits.
class Transaction {
 public:
  /// Begins; fails (transient when another connection is writing) naming `doing`.
  static model::Result<Transaction> begin(Database& db, std::string_view doing) {
    const bool nested = sqlite3_get_autocommit(db.handle()) == 0;
    auto begun = db.exec(nested ? "SAVEPOINT mxctl_nested" : "BEGIN IMMEDIATE", doing);
    if (!begun) {
      return tl::unexpected(begun.error());
    }
    return Transaction(&db, nested);
  }

  Transaction(Transaction&& other) noexcept : m_db(std::exchange(other.m_db, nullptr)), m_nested(other.m_nested) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (m_db != nullptr) {
      // Nothing useful can be done about a failed rollback here; the
      // connection's next BEGIN reports the state if it is still wrong.
      // A savepoint is rolled back and then released, which leaves the
      // outer transaction open with what it held before.
      sqlite3_exec(m_db->handle(), m_nested ? "ROLLBACK TO mxctl_nested; RELEASE mxctl_nested" : "ROLLBACK", nullptr,
                   nullptr, nullptr);
    }
  }

  /// Commits (releases a savepoint); after a failure the destructor rolls back.
  model::Result<void> commit(std::string_view doing) {
    auto committed = m_db->exec(m_nested ? "RELEASE mxctl_nested" : "COMMIT", doing);
    if (committed) {
      m_db = nullptr;
    }
    return committed;
  }

 private:
  Transaction(Database* db, bool nested) : m_db(db), m_nested(nested) {}

  Database* m_db;
  bool m_nested;
};

}  // namespace adapters::sqlite
