// SqliteStateStore::open: from a path to a store known to be an mxctl
// store, undamaged and at this build's schema, or to a refusal that says
// what was found and what to do instead. Nothing is written to a file
// before it has passed every check.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"
#include "adapters/store/sqlite_store_checks.h"
#include "adapters/store/sqlite_store_lock.h"

namespace adapters {

namespace {

enum class Connection { read_write, read_only, immutable };

// `path` as an SQLite URI with `query`, for the read-only connections.
std::string file_uri(const std::string& path, const char* query) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
      uri += escaped;
    } else {
      uri += c;
    }
  }
  return uri + "?" + query;
}

bool wal_has_content(const std::string& path) {
  struct stat info {};
  return ::stat((path + "-wal").c_str(), &info) == 0 && info.st_size > 0;
}

// A reader that cannot write the file reads it as immutable, which needs no
// -shm file (a read-only directory cannot get one) and leaves none behind.
// Commits still in the WAL are invisible that way, so then the reader asks
// for an ordinary read-only connection, which sees them.
Connection read_only_connection(const std::string& path) {
  return wal_has_content(path) ? Connection::read_only : Connection::immutable;
}

model::Result<std::shared_ptr<sqlite::Database>> connect(const std::string& path, Connection how,
                                                         std::string_view doing) {
  switch (how) {
    case Connection::read_write: return sqlite::Database::open(path, doing);
    case Connection::read_only:
      return sqlite::Database::open(file_uri(path, "mode=ro"), doing, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
    case Connection::immutable:
      return sqlite::Database::open(file_uri(path, "immutable=1"), doing, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
  }
  return sqlite::Database::open(path, doing);
}

// SQLite's codes for "this process may not write here" (the file, its
// directory, or the -shm file a WAL reader needs).
bool is_permission_code(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN || primary == SQLITE_PERM ||
         primary == SQLITE_AUTH;
}

// Creates `path` with mode 0600 when it does not exist, so that the store,
// and the -wal and -shm files SQLite gives the database file's mode, are
// private to their owner from the start. Returns 0 or the errno.
int create_private(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
  return errno == EEXIST ? 0 : errno;
}

// Whether the header of the file at `path` carries the state store's
// application id: a file SQLite cannot read as a database but that says it
// is an mxctl store is a damaged store, not somebody else's file.
bool has_store_application_id(const std::string& path) {
  unsigned char header[72] = {};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const ssize_t got = ::pread(fd, header, sizeof header, 0);
  ::close(fd);
  if (got != static_cast<ssize_t>(sizeof header)) {
    return false;
  }
  const std::int64_t id = (std::int64_t(header[68]) << 24) | (header[69] << 16) | (header[70] << 8) | header[71];
  return id == k_store_application_id;
}

const char* const k_needs_write =
    " (apply and reconcile write the state store; plan can read one it cannot write)";

}  // namespace

model::Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const std::string& path,
                                                                         std::chrono::milliseconds busy_timeout) {
  SqliteStoreOptions options;
  options.busy_timeout = busy_timeout;
  return open(path, options);
}

model::Result<std::unique_ptr<SqliteStateStore>> SqliteStateStore::open(const std::string& path,
                                                                         const SqliteStoreOptions& options) {
  static_assert(SqliteStateStore::k_schema_version > 0);
  const std::string doing = "open state store " + path;
  auto with_path = [&](model::Error error) {
    // Every failure while opening names the file, whatever step it was.
    if (error.message.rfind("cannot open state store ", 0) != 0) {
      error.message = "cannot open state store " + path + ": " + error.message;
    }
    return tl::unexpected(std::move(error));
  };
  if (path.empty()) {
    // SQLite would quietly open a temporary file, losing everything on close.
    return model::fail(model::Error::Kind::invalid, "cannot open state store: no path given");
  }
  const bool memory = path == ":memory:";
  // A reader with nothing to read plans as on a new store and keeps nothing.
  auto empty_read_only = [&]() -> model::Result<std::unique_ptr<SqliteStateStore>> {
    SqliteStoreOptions in_memory = options;
    in_memory.read_only_fallback = false;
    auto store = open(":memory:", in_memory);
    if (store) {
      (*store)->m_read_only = true;
    }
    return store;
  };
  if (!memory) {
    if (int error = create_private(path); error != 0) {
      if (options.read_only_fallback && (error == EACCES || error == EROFS || error == EPERM)) {
        return empty_read_only();
      }
      return with_path(model::make_error(model::Error::Kind::invalid,
                                         std::string("cannot create the file: ") + std::strerror(error)));
    }
  }
  Connection how = Connection::read_write;
  auto db = connect(path, how, doing);
  if (!db) {
    return with_path(db.error());
  }
  auto read_only_instead = [&]() -> model::Result<void> {
    how = read_only_connection(path);
    db = connect(path, how, doing);
    if (!db) {
      return tl::unexpected(db.error());
    }
    return {};
  };
  if (!memory && sqlite3_db_readonly((*db)->handle(), "main") == 1) {
    if (!options.read_only_fallback) {
      return with_path(model::make_error(model::Error::Kind::forbidden, std::string("the file cannot be written") +
                                                                            k_needs_write));
    }
    if (auto reopened = read_only_instead(); !reopened) {
      return with_path(reopened.error());
    }
  }
  auto read_version = [&]() -> model::Result<std::int64_t> {
    sqlite3_busy_timeout((*db)->handle(), static_cast<int>(options.busy_timeout.count()));
    return (*db)->query_int64("PRAGMA user_version", "read the schema version");
  };
  auto version = read_version();
  if (!version && how == Connection::read_write && is_permission_code(sqlite3_extended_errcode((*db)->handle()))) {
    // A WAL reader needs a -shm file, which a read-only directory cannot get.
    if (!options.read_only_fallback) {
      return with_path(model::make_error(model::Error::Kind::forbidden, version.error().message + k_needs_write));
    }
    if (auto reopened = read_only_instead(); !reopened) {
      return with_path(reopened.error());
    }
    version = read_version();
  }
  if (!version) {
    const int code = sqlite3_extended_errcode((*db)->handle()) & 0xff;
    if (code == SQLITE_NOTADB && !has_store_application_id(path)) {
      return with_path(model::make_error(
          model::Error::Kind::invalid,
          "it is not an SQLite database (file is not a database); give --state the path of an mxctl state store, "
          "or a new path (mxctl makes a new store there)"));
    }
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) {
      return with_path(model::make_error(model::Error::Kind::invalid,
                                         sqlite::damaged_store_message(sqlite3_errmsg((*db)->handle()))));
    }
    return with_path(version.error());
  }
  const bool read_only = how != Connection::read_write;
  if (auto fk = (*db)->exec("PRAGMA foreign_keys = ON", "enable foreign keys"); !fk) {
    return with_path(fk.error());
  }
  // Checked before anything is written (WAL switch, migrations): a newer
  // mxctl's file, or another program's, must be left exactly as it was.
  if (*version > k_schema_version) {
    return with_path(model::make_error(model::Error::Kind::invalid, newer_schema_message(*version)));
  }
  auto file = identify_store(**db, *version);
  if (!file) {
    return with_path(file.error());
  }
  if (read_only && *file == StoreFile::empty) {
    return empty_read_only();
  }
  // Page checksums: a store made with them must still have them (a damaged
  // header could turn them off); a new one reserves room for them before
  // its first page is written.
  const int reserved = memory ? sqlite::k_checksum_bytes : reserved_bytes(**db);
  if (*file == StoreFile::mxctl && *version >= k_checksummed_since && reserved != sqlite::k_checksum_bytes) {
    return with_path(model::make_error(
        model::Error::Kind::invalid,
        sqlite::damaged_store_message("its header says its pages carry no checksums, which a store at schema "
                                      "version " + std::to_string(*version) + " always has")));
  }
  if (!memory && *file == StoreFile::empty) {
    if (auto reserved_room = add_checksums(**db, true); !reserved_room) {
      return with_path(reserved_room.error());
    }
  }
  if (read_only && *version < k_schema_version) {
    return with_path(model::make_error(
        model::Error::Kind::forbidden, "it is at schema version " + std::to_string(*version) +
                                           " and cannot be written; this mxctl reads version " +
                                           std::to_string(k_schema_version) +
                                           ": let a pass that can write it (apply) upgrade it first"));
  }
  // The whole file when that is cheap, or when the last pass may have died
  // mid-write; else the tables that guard rooms and accounts.
  const auto now = options.clock ? options.clock() : std::chrono::system_clock::now();
  auto crashed = crash_suspected(**db, *version, now, options.lease);
  if (!crashed) {
    return with_path(crashed.error());
  }
  auto pages = (*db)->query_int64("PRAGMA page_count", "read the file size");
  auto page_size = (*db)->query_int64("PRAGMA page_size", "read the file size");
  if (!pages || !page_size) {
    return with_path(!pages ? pages.error() : page_size.error());
  }
  const bool full = *crashed || *pages * *page_size <= options.full_check_bytes;
  if (auto checked = check_integrity(**db, full); !checked) {
    return with_path(checked.error());
  }
  if (!memory && !read_only) {
    // WAL lets `mxctl plan` read while a pass writes. On a filesystem without
    // shared memory SQLite keeps the rollback journal, which still works, so
    // the resulting mode is not checked.
    auto mode = (*db)->prepare("PRAGMA journal_mode = WAL", "enable WAL journaling");
    if (!mode) {
      return with_path(mode.error());
    }
    if (auto stepped = mode->step("enable WAL journaling"); !stepped) {
      return with_path(stepped.error());
    }
    // In WAL mode NORMAL still survives a killed process (every commit is in
    // the WAL before it returns); only an OS crash or power loss can lose the
    // last commits, never corrupt the file. FULL would fsync on each of the
    // journal and audit writes of every operation, which dominated mxctl's
    // own time in a large apply.
    if (auto synchronous = (*db)->exec("PRAGMA synchronous = NORMAL", "set synchronous mode"); !synchronous) {
      return with_path(synchronous.error());
    }
  }
  // A store from before checksums gets them once, before it is migrated
  // to the version that promises them.
  if (!memory && !read_only && *file == StoreFile::mxctl && reserved != sqlite::k_checksum_bytes) {
    if (auto added = add_checksums(**db, false); !added) {
      return with_path(added.error());
    }
  }
  if (!read_only) {
    if (auto migrated = migrate_schema(**db); !migrated) {
      return with_path(migrated.error());
    }
  }
  std::unique_ptr<SqliteStateStore> store(new SqliteStateStore(std::move(*db), path, options));
  store->m_read_only = read_only;
  store->m_created = *file == StoreFile::empty;
  return store;
}

model::Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path, StoreAccess access) {
  SqliteStoreOptions options;
  options.read_only_fallback = access == StoreAccess::read_only_if_needed;
  auto store = SqliteStateStore::open(path, options);
  if (!store) {
    return tl::unexpected(store.error());
  }
  return std::unique_ptr<StateStore>(std::move(*store));
}

}  // namespace adapters
