#include "adapters/store/sqlite_schema.h"

#include <iterator>

#include "adapters/observation_cache.h"
#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

namespace {

// Migration N takes a file from user_version N-1 to N. Never edit a released
// migration: files in the field were built by it. Change the schema by
// appending one and raising
// SqliteStateStore::k_schema_version.
//
// The serial is kept by triggers so that every write to tracked contents
// bumps it, whichever code path (or operator with the sqlite3 shell) made it;
// an UPDATE whose WHERE matches nothing fires none.
// One step of the schema: the SQL that takes user_version to `version`.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration k_migrations[] = {
    {1, R"sql(
CREATE TABLE meta (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  sync_token  TEXT    NOT NULL DEFAULT '',
  serial      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO meta (id) VALUES (1);

CREATE TABLE rooms (
  key         TEXT PRIMARY KEY,
  room_id     TEXT NOT NULL UNIQUE,
  updated_at  TEXT NOT NULL
);

CREATE TABLE messages_sent (
  key      TEXT PRIMARY KEY,
  sent_at  TEXT NOT NULL
);

-- Managed accounts (used from schema version 4 on).
CREATE TABLE accounts (
  key             TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL UNIQUE,
  provisioned_at  TEXT NOT NULL
);

-- AUTOINCREMENT so a run id is never reused, even after history is pruned:
-- the journal and saved reports refer to runs by id.
CREATE TABLE runs (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  command          TEXT    NOT NULL,
  started          TEXT    NOT NULL,
  finished         TEXT,
  outcome          TEXT    NOT NULL DEFAULT 'running',
  changes_applied  INTEGER NOT NULL DEFAULT 0,
  failures         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE journal (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  operation  TEXT    NOT NULL,
  result     TEXT    NOT NULL,
  errcode    TEXT    NOT NULL DEFAULT '',
  message    TEXT    NOT NULL DEFAULT '',
  attempt    INTEGER NOT NULL DEFAULT 1,
  at         TEXT    NOT NULL
);
CREATE INDEX journal_by_run ON journal (run_id, id);

CREATE TABLE lock (
  id           INTEGER PRIMARY KEY CHECK (id = 1),
  holder       TEXT    NOT NULL,
  pid          INTEGER NOT NULL,
  hostname     TEXT    NOT NULL,
  command      TEXT    NOT NULL,
  acquired_at  TEXT    NOT NULL
);

CREATE TRIGGER rooms_insert_serial AFTER INSERT ON rooms
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER rooms_update_serial AFTER UPDATE ON rooms
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER rooms_delete_serial AFTER DELETE ON rooms
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER messages_sent_insert_serial AFTER INSERT ON messages_sent
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER messages_sent_update_serial AFTER UPDATE ON messages_sent
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER messages_sent_delete_serial AFTER DELETE ON messages_sent
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER accounts_insert_serial AFTER INSERT ON accounts
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER accounts_update_serial AFTER UPDATE ON accounts
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER accounts_delete_serial AFTER DELETE ON accounts
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER meta_sync_token_serial AFTER UPDATE OF sync_token ON meta
  WHEN old.sync_token IS NOT new.sync_token
  BEGIN UPDATE meta SET serial = serial + 1; END;
)sql"},
    // Version 2: the room state behind the sync token, so a pass can ask the
    // homeserver for changes only (a cache: losing it costs one full read).
    {2, R"sql(
CREATE TABLE room_snapshots (
  room_id      TEXT PRIMARY KEY,
  state        TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
)sql"},
    // Version 3: which DM participants' m.direct lists their DM, so it is
    // written once, not read for every participant on every pass.
    {3, R"sql(
CREATE TABLE directs_set (
  room_key     TEXT NOT NULL,
  user_id      TEXT NOT NULL,
  set_at       TEXT NOT NULL,
  PRIMARY KEY (room_key, user_id)
);
)sql"},
    // Version 4: the lifecycle (archive times, tombstones of hard-deleted
    // rooms, protection that outlives removal) and the audit log. Times of
    // the lifecycle are ms since the epoch, as in Matrix events, because
    // they are compared with the archive event's; audit times are text.
    {4, R"sql(
CREATE TABLE archives (
  key          TEXT PRIMARY KEY,
  room_id      TEXT NOT NULL,
  archived_at  INTEGER NOT NULL
);

CREATE TABLE tombstones (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  key          TEXT NOT NULL,
  room_id      TEXT NOT NULL,
  archived_at  INTEGER NOT NULL,
  deleted_at   INTEGER NOT NULL
);

CREATE TABLE protected (
  address      TEXT PRIMARY KEY,
  since        TEXT NOT NULL
);

CREATE TABLE audit (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id   INTEGER NOT NULL,
  at       TEXT    NOT NULL,
  action   TEXT    NOT NULL,
  key      TEXT    NOT NULL,
  target   TEXT    NOT NULL DEFAULT '',
  before   TEXT    NOT NULL DEFAULT '',
  after    TEXT    NOT NULL DEFAULT '',
  result   TEXT    NOT NULL,
  message  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_key ON audit (key, id);

-- Synapse's user list does not show suspension, so the accounts mxctl
-- suspended are remembered and checked one by one.
ALTER TABLE accounts ADD COLUMN suspended INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER archives_insert_serial AFTER INSERT ON archives
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER archives_delete_serial AFTER DELETE ON archives
  BEGIN UPDATE meta SET serial = serial + 1; END;
CREATE TRIGGER tombstones_insert_serial AFTER INSERT ON tombstones
  BEGIN UPDATE meta SET serial = serial + 1; END;
)sql"},
    // Version 5: the rooms mxctl wrote to since the last observation, which
    // the next one re-reads in full (an incremental /sync can miss a change
    // on Synapse when writes fork a room's event graph); and an index for
    // looking up room creations in the journal, partial so that no other
    // journal row pays for it.
    {5, R"sql(
CREATE TABLE rooms_written (
  room_id      TEXT PRIMARY KEY,
  written_at   TEXT NOT NULL
);

CREATE INDEX journal_room_creations ON journal (operation) WHERE operation LIKE 'create room %';
)sql"},
    // Version 6: the pass lock gets an id (what `mxctl unlock ID` names) and
    // a lease its holder renews, so a lock whose holder went silent (killed
    // on another host, or a pid now used by another program) is taken over
    // once the lease runs out. A lock left by an older build counts as
    // renewed when it was taken. The application id tells an mxctl store
    // from any other SQLite file.
    {6, R"sql(
ALTER TABLE lock ADD COLUMN lock_id TEXT NOT NULL DEFAULT '';
ALTER TABLE lock ADD COLUMN renewed_at TEXT NOT NULL DEFAULT '';
ALTER TABLE lock ADD COLUMN lease_ms INTEGER NOT NULL DEFAULT 0;
UPDATE lock SET lock_id = lower(hex(randomblob(8))), renewed_at = acquired_at;
PRAGMA application_id = 1836606324;
)sql"},
    // Version 7: the application-service transactions the homeserver
    // pushed, so that one it repeats (its answer lost, or mxctl restarted)
    // is recognised and done once. The rowid orders them for forgetting the
    // oldest.
    {7, R"sql(
CREATE TABLE appservice_transactions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  txn_id       TEXT NOT NULL UNIQUE,
  received_at  TEXT NOT NULL
);
)sql"},
    // Version 8: the last probe of the homeserver (who the bot is, what the
    // server offers), so that passes within its lifetime need not ask.
    {8, R"sql(
ALTER TABLE meta ADD COLUMN probe_key TEXT NOT NULL DEFAULT '';
ALTER TABLE meta ADD COLUMN probe_answer TEXT NOT NULL DEFAULT '';
ALTER TABLE meta ADD COLUMN probe_taken_at INTEGER NOT NULL DEFAULT 0;
)sql"},
    // Version 9: the last compiled desired state, under a digest of its
    // inputs, so that a pass over unchanged manifests does not parse them.
    {9, R"sql(
CREATE TABLE compiled_desired (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  digest     TEXT NOT NULL,
  state      BLOB NOT NULL
);
)sql"},
    // Version 10: each room as the last pass read it from its snapshot,
    // under a digest of what it was read from, so that a pass need not
    // parse snapshots that did not change.
    {10, R"sql(
CREATE TABLE room_reads (
  room_id  TEXT PRIMARY KEY,
  digest   TEXT NOT NULL,
  read     BLOB NOT NULL
);
)sql"},
    // Version 11: each snapshot's digest beside it, so that a pass learns
    // which snapshots its kept reads match without reading their texts.
    // The digest comes before the text: a column after a text that spills
    // into overflow pages costs reading all of them.
    {11, R"sql(
CREATE TABLE room_snapshots_11 (
  room_id      TEXT PRIMARY KEY,
  digest       TEXT NOT NULL,
  updated_at   TEXT NOT NULL,
  state        TEXT NOT NULL
);
INSERT INTO room_snapshots_11 (room_id, digest, updated_at, state)
  SELECT room_id, mxctl_snapshot_digest(state), updated_at, state FROM room_snapshots;
DROP TABLE room_snapshots;
ALTER TABLE room_snapshots_11 RENAME TO room_snapshots;
)sql"},
    // Version 12: the last pass that found nothing to do, so that the next
    // one over the same inputs can tell so without planning.
    {12, R"sql(
CREATE TABLE converged_verdict (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  key            TEXT NOT NULL,
  valid_until    INTEGER NOT NULL,
  replay_paths   TEXT NOT NULL,
  replay_digest  TEXT NOT NULL
);
)sql"},
};

// Versions must run 1, 2, 3... with no gap, and end at k_schema_version.
constexpr bool migrations_in_order() {
  int expected = 1;
  for (const Migration& migration : k_migrations) {
    if (migration.version != expected) {
      return false;
    }
    ++expected;
  }
  return expected - 1 == SqliteStateStore::k_schema_version;
}
static_assert(migrations_in_order(), "each schema version needs exactly one migration, in order");

// mxctl_snapshot_digest(text): snapshot_digest() for the migrations.
void snapshot_digest_sql(sqlite3_context* context, int, sqlite3_value** values) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(values[0]));
  const int size = sqlite3_value_bytes(values[0]);
  const std::string digest = snapshot_digest(std::string_view(text == nullptr ? "" : text, static_cast<std::size_t>(size)));
  sqlite3_result_text(context, digest.data(), static_cast<int>(digest.size()), SQLITE_TRANSIENT);
}

model::Result<void> register_snapshot_digest(sqlite::Database& db) {
  const int code = sqlite3_create_function_v2(db.handle(), "mxctl_snapshot_digest", 1,
                                              SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                                              snapshot_digest_sql, nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) {
    return tl::unexpected(sqlite::make_error(code, "migrate the schema", sqlite3_errmsg(db.handle())));
  }
  return {};
}

}  // namespace

std::string newer_schema_message(std::int64_t version) {
  return "state store schema version " + std::to_string(version) + " is newer than this mxctl supports (" +
         std::to_string(SqliteStateStore::k_schema_version) + "); upgrade mxctl";
}

model::Result<void> migrate_schema(sqlite::Database& db) {
  if (auto registered = register_snapshot_digest(db); !registered) {
    return registered;
  }
  for (;;) {
    // The version is re-read inside each transaction because another process
    // may be migrating the same file; BEGIN IMMEDIATE makes them take turns.
    auto txn = sqlite::Transaction::begin(db, "migrate the schema");
    if (!txn) {
      return tl::unexpected(txn.error());
    }
    auto version = db.query_int64("PRAGMA user_version", "read the schema version");
    if (!version) {
      return tl::unexpected(version.error());
    }
    if (*version > SqliteStateStore::k_schema_version) {
      return model::fail(model::Error::Kind::invalid, newer_schema_message(*version));
    }
    if (*version == SqliteStateStore::k_schema_version) {
      return txn->commit("migrate the schema");
    }
    const Migration& next = k_migrations[*version];
    const std::string doing = "migrate the schema to version " + std::to_string(next.version);
    if (auto applied = db.exec(next.sql, doing); !applied) {
      return applied;
    }
    // PRAGMA takes no bound parameters; the number is this binary's own
    // constant, not outside input.
    const std::string set_version = "PRAGMA user_version = " + std::to_string(next.version);
    if (auto set = db.exec(set_version.c_str(), doing); !set) {
      return set;
    }
    if (auto committed = txn->commit(doing); !committed) {
      return committed;
    }
  }
}

}  // namespace adapters
