// The SQLite engine of AppDatabase: the embedded default for small instances.

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include "adapters/appdb/app_database.h"

namespace adapters {

namespace {

class SqliteAppDatabase final : public AppDatabase {
 public:
  /// `opened`: the file's stat taken before opening it.
  SqliteAppDatabase(sqlite3* db, std::string path, const struct stat& opened)
      : m_db(db), m_path(std::move(path)), m_device(opened.st_dev), m_inode(opened.st_ino) {}
  ~SqliteAppDatabase() override {
    rollback();
    sqlite3_close(m_db);
  }
  SqliteAppDatabase(const SqliteAppDatabase&) = delete;
  SqliteAppDatabase& operator=(const SqliteAppDatabase&) = delete;

  // A deferred transaction takes its snapshot at the first read and keeps it
  // (WAL) or holds the shared lock (rollback journal) until the end.
  model::Result<void> begin_snapshot() override { return exec("BEGIN DEFERRED", "begin a read transaction"); }
  // IMMEDIATE takes the write lock up front, so a busy database fails here
  // and not halfway through the writes.
  model::Result<void> begin_write() override { return exec("BEGIN IMMEDIATE", "begin a write transaction"); }
  model::Result<void> commit() override { return exec("COMMIT", "commit"); }
  void rollback() override {
    if (sqlite3_get_autocommit(m_db) == 0) {
      sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  model::Result<DbRows> query(const std::string& sql,
                              const std::vector<std::optional<std::string>>& params) override {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      return model::fail(model::Error::Kind::invalid, std::string("sql error: ") + sqlite3_errmsg(m_db));
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard(stmt, sqlite3_finalize);
    for (std::size_t i = 0; i < params.size(); ++i) {
      // "$1" is a named parameter to SQLite; look it up so the same SQL
      // text works on PostgreSQL.
      int index = sqlite3_bind_parameter_index(stmt, ("$" + std::to_string(i + 1)).c_str());
      if (index == 0) {
        continue;
      }
      if (params[i]) {
        sqlite3_bind_text(stmt, index, params[i]->c_str(), static_cast<int>(params[i]->size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt, index);
      }
    }
    DbRows out;
    int columns = sqlite3_column_count(stmt);
    for (int c = 0; c < columns; ++c) {
      out.columns.emplace_back(sqlite3_column_name(stmt, c));
    }
    while (true) {
      int code = sqlite3_step(stmt);
      if (code == SQLITE_DONE) {
        break;
      }
      if (code != SQLITE_ROW) {
        return model::fail(code == SQLITE_BUSY ? model::Error::Kind::transient : model::Error::Kind::invalid,
                           std::string("sql error: ") + sqlite3_errmsg(m_db));
      }
      std::vector<DbValue> row;
      for (int c = 0; c < columns; ++c) {
        row.push_back(value(stmt, c));
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  model::Result<void> execute_script(const std::string& sql) override { return exec(sql, "run the script"); }

  DbEngine engine() const override { return DbEngine::sqlite; }

  // PRAGMA data_version changes whenever another connection, of any
  // process, has committed since this one last looked, and a commit is
  // visible to every read that starts after it: a token taken before a load
  // never records a change the load misses. It cannot see the file being
  // replaced (a restore, a rename over it): this connection still reads
  // the old one. The path's identity catches that, and its size and time a
  // copy over the same file.
  model::Result<std::string> change_token() override {
    struct stat now {};
    if (::stat(m_path.c_str(), &now) != 0) {
      return model::fail(model::Error::Kind::transient, "cannot read sqlite://" + m_path + ": no such file");
    }
    if (now.st_dev != m_device || now.st_ino != m_inode) {
      return model::fail(model::Error::Kind::transient, "sqlite://" + m_path + " was replaced; open it again");
    }
    auto version = query("PRAGMA data_version", {});
    if (!version) {
      return tl::unexpected(version.error());
    }
    if (version->rows.size() != 1 || version->rows[0].size() != 1) {
      return model::fail(model::Error::Kind::invalid, "PRAGMA data_version returned no value");
    }
    return "data_version " + version->rows[0][0].text + ", size " + std::to_string(now.st_size) + ", modified " +
           std::to_string(now.st_mtim.tv_sec) + "." + std::to_string(now.st_mtim.tv_nsec);
  }

 private:
  static DbValue value(sqlite3_stmt* stmt, int column) {
    switch (sqlite3_column_type(stmt, column)) {
      case SQLITE_INTEGER:
        return DbValue::of_integer(sqlite3_column_int64(stmt, column));
      case SQLITE_FLOAT:
        return DbValue::of_real(sqlite3_column_double(stmt, column),
                                reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)));
      case SQLITE_NULL:
        return DbValue::null_value();
      default: {
        const unsigned char* text = sqlite3_column_text(stmt, column);
        int size = sqlite3_column_bytes(stmt, column);
        return DbValue::of_text(std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)));
      }
    }
  }

  model::Result<void> exec(const std::string& sql, const std::string& doing) {
    char* message = nullptr;
    int code = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message);
    if (code != SQLITE_OK) {
      std::string text = message != nullptr ? message : sqlite3_errstr(code);
      sqlite3_free(message);
      return model::fail(code == SQLITE_BUSY ? model::Error::Kind::transient : model::Error::Kind::invalid,
                         "cannot " + doing + ": " + text);
    }
    return {};
  }

  sqlite3* m_db;
  std::string m_path;
  dev_t m_device;
  ino_t m_inode;
};

}  // namespace

model::Result<std::unique_ptr<AppDatabase>> open_sqlite_app_database(const std::string& path, bool writable) {
  // A missing file would otherwise be created empty and read as "no users,
  // no communities": exactly the outage that must never look like a state.
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return model::fail(model::Error::Kind::transient, "cannot open database sqlite://" + path + ": no such file");
  }
  // Taken first: a file replaced while opening then shows as replaced.
  struct stat opened {};
  if (::stat(path.c_str(), &opened) != 0) {
    return model::fail(model::Error::Kind::transient, "cannot open database sqlite://" + path + ": no such file");
  }
  sqlite3* db = nullptr;
  int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  int code = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (code != SQLITE_OK) {
    std::string reason = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    sqlite3_close(db);
    return model::fail(model::Error::Kind::transient, "cannot open database sqlite://" + path + ": " + reason);
  }
  sqlite3_busy_timeout(db, 5000);
  // Opening is lazy: read the schema now so a file that is not a database
  // fails here, before anything else happens.
  if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string reason = sqlite3_errmsg(db);
    sqlite3_close(db);
    return model::fail(model::Error::Kind::transient, "cannot open database sqlite://" + path + ": " + reason);
  }
  return std::unique_ptr<AppDatabase>(std::make_unique<SqliteAppDatabase>(db, path, opened));
}

}  // namespace adapters
