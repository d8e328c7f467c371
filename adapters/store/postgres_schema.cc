#include "adapters/store/postgres_schema.h"

#include <string>

#include "adapters/postgres/postgres_lease.h"
#include "adapters/store/postgres_state_store.h"

namespace adapters::postgres_store {

namespace {

// Migration N takes the schema from version N-1 to N. Never edit a released
// one: stores in the field were built by it. Version 1 is the SQLite
// store's version 12 (the same tables and meaning; bytea for its blobs,
// bigint for its integers, identity columns for its AUTOINCREMENT ids).
// The serial is kept by row triggers, as there, so every write to tracked
// contents bumps it whoever made it.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration k_migrations[] = {
    {1, R"sql(
CREATE TABLE mxctl.meta (
  id              integer PRIMARY KEY CHECK (id = 1),
  sync_token      text    NOT NULL DEFAULT '',
  serial          bigint  NOT NULL DEFAULT 0,
  probe_key       text    NOT NULL DEFAULT '',
  probe_answer    text    NOT NULL DEFAULT '',
  probe_taken_at  bigint  NOT NULL DEFAULT 0
);
INSERT INTO mxctl.meta (id) VALUES (1);

CREATE TABLE mxctl.rooms (
  key         text PRIMARY KEY,
  room_id     text NOT NULL UNIQUE,
  updated_at  text NOT NULL
);

CREATE TABLE mxctl.messages_sent (
  key      text PRIMARY KEY,
  sent_at  text NOT NULL
);

CREATE TABLE mxctl.accounts (
  key             text    PRIMARY KEY,
  user_id         text    NOT NULL UNIQUE,
  provisioned_at  text    NOT NULL,
  suspended       integer NOT NULL DEFAULT 0
);

CREATE TABLE mxctl.runs (
  id               bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  command          text    NOT NULL,
  started          text    NOT NULL,
  finished         text,
  outcome          text    NOT NULL DEFAULT 'running',
  changes_applied  integer NOT NULL DEFAULT 0,
  failures         integer NOT NULL DEFAULT 0
);

CREATE TABLE mxctl.journal (
  id         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id     bigint  NOT NULL REFERENCES mxctl.runs (id) ON DELETE CASCADE,
  operation  text    NOT NULL,
  result     text    NOT NULL,
  errcode    text    NOT NULL DEFAULT '',
  message    text    NOT NULL DEFAULT '',
  attempt    integer NOT NULL DEFAULT 1,
  at         text    NOT NULL
);
CREATE INDEX journal_by_run ON mxctl.journal (run_id, id);
CREATE INDEX journal_room_creations ON mxctl.journal (operation) WHERE operation LIKE 'create room %';

-- Who holds the advisory lock (the lock itself is the session's).
CREATE TABLE mxctl.lock (
  id            integer PRIMARY KEY CHECK (id = 1),
  lock_id       text    NOT NULL,
  holder        text    NOT NULL,
  pid           bigint  NOT NULL,
  hostname      text    NOT NULL,
  command       text    NOT NULL,
  acquired_at   text    NOT NULL,
  backend_pid   integer NOT NULL
);

CREATE TABLE mxctl.room_snapshots (
  room_id      text PRIMARY KEY,
  digest       text NOT NULL,
  updated_at   text NOT NULL,
  state        text NOT NULL
);

CREATE TABLE mxctl.directs_set (
  room_key     text NOT NULL,
  user_id      text NOT NULL,
  set_at       text NOT NULL,
  PRIMARY KEY (room_key, user_id)
);

CREATE TABLE mxctl.archives (
  key          text   PRIMARY KEY,
  room_id      text   NOT NULL,
  archived_at  bigint NOT NULL
);

CREATE TABLE mxctl.tombstones (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key          text   NOT NULL,
  room_id      text   NOT NULL,
  archived_at  bigint NOT NULL,
  deleted_at   bigint NOT NULL
);

CREATE TABLE mxctl.protected (
  address      text PRIMARY KEY,
  since        text NOT NULL
);

CREATE TABLE mxctl.audit (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id   bigint NOT NULL,
  at       text   NOT NULL,
  action   text   NOT NULL,
  key      text   NOT NULL,
  target   text   NOT NULL DEFAULT '',
  before   text   NOT NULL DEFAULT '',
  after    text   NOT NULL DEFAULT '',
  result   text   NOT NULL,
  message  text   NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_key ON mxctl.audit (key, id);

CREATE TABLE mxctl.rooms_written (
  room_id      text PRIMARY KEY,
  written_at   text NOT NULL
);

CREATE TABLE mxctl.appservice_transactions (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  txn_id       text NOT NULL UNIQUE,
  received_at  text NOT NULL
);

CREATE TABLE mxctl.compiled_desired (
  id         integer PRIMARY KEY CHECK (id = 1),
  digest     text  NOT NULL,
  state      bytea NOT NULL
);

CREATE TABLE mxctl.room_reads (
  room_id  text  PRIMARY KEY,
  digest   text  NOT NULL,
  read     bytea NOT NULL
);

CREATE TABLE mxctl.converged_verdict (
  id             integer PRIMARY KEY CHECK (id = 1),
  key            text   NOT NULL,
  valid_until    bigint NOT NULL,
  replay_paths   text   NOT NULL,
  replay_digest  text   NOT NULL
);

CREATE FUNCTION mxctl.bump_serial() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE mxctl.meta SET serial = serial + 1 WHERE id = 1;
  RETURN NULL;
END $$;
CREATE TRIGGER rooms_serial AFTER INSERT OR UPDATE OR DELETE ON mxctl.rooms
  FOR EACH ROW EXECUTE FUNCTION mxctl.bump_serial();
CREATE TRIGGER messages_sent_serial AFTER INSERT OR UPDATE OR DELETE ON mxctl.messages_sent
  FOR EACH ROW EXECUTE FUNCTION mxctl.bump_serial();
CREATE TRIGGER accounts_serial AFTER INSERT OR UPDATE OR DELETE ON mxctl.accounts
  FOR EACH ROW EXECUTE FUNCTION mxctl.bump_serial();
CREATE TRIGGER archives_serial AFTER INSERT OR DELETE ON mxctl.archives
  FOR EACH ROW EXECUTE FUNCTION mxctl.bump_serial();
CREATE TRIGGER tombstones_serial AFTER INSERT ON mxctl.tombstones
  FOR EACH ROW EXECUTE FUNCTION mxctl.bump_serial();
CREATE TRIGGER meta_sync_token_serial AFTER UPDATE OF sync_token ON mxctl.meta
  FOR EACH ROW WHEN (old.sync_token IS DISTINCT FROM new.sync_token) EXECUTE FUNCTION mxctl.bump_serial();
)sql"},
};

constexpr bool migrations_in_order() {
  int expected = 1;
  for (const Migration& migration : k_migrations) {
    if (migration.version != expected) {
      return false;
    }
    ++expected;
  }
  return expected - 1 == PostgresStateStore::k_schema_version;
}
static_assert(migrations_in_order(), "each schema version needs exactly one migration, in order");

// Whatever went wrong, the transaction ends before the error is returned.
model::Error rolled_back(postgres::Connection& connection, model::Error error) {
  (void)connection.execute("roll back the schema migration", "ROLLBACK");
  return error;
}

}  // namespace

std::int64_t pass_lock_key() { return postgres::lease_key("mxctl state store pass lock"); }

model::Result<Migrated> migrate(postgres::Connection& connection) {
  Migrated out;
  const std::int64_t migration_key = postgres::lease_key("mxctl state store migration");
  for (;;) {
    if (auto begun = connection.execute("migrate the state store's schema", "BEGIN"); !begun) {
      return tl::unexpected(begun.error());
    }
    // Held to the transaction's end: openers take turns, each re-reading the version.
    auto locked = connection.query("migrate the state store's schema", "SELECT pg_advisory_xact_lock($1::bigint)",
                                   {std::to_string(migration_key)});
    if (!locked) {
      return tl::unexpected(rolled_back(connection, locked.error()));
    }
    auto schema = connection.query("read the state store's schema version",
                                   "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'mxctl'), "
                                   "EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'mxctl' AND tablename = "
                                   "'schema_version')");
    if (!schema) {
      return tl::unexpected(rolled_back(connection, schema.error()));
    }
    const bool has_schema = schema->rows.at(0).at(0) == "t";
    const bool has_version = schema->rows.at(0).at(1) == "t";
    int version = 0;
    if (has_schema && !has_version) {
      return tl::unexpected(rolled_back(
          connection, model::make_error(model::Error::Kind::invalid,
                                        "database " + connection.where() +
                                            " has a schema \"mxctl\" that is not an mxctl state store (no "
                                            "mxctl.schema_version table); give --state another database")));
    }
    if (!has_schema) {
      auto made = connection.execute(
          "create the state store's schema",
          "CREATE SCHEMA mxctl; CREATE TABLE mxctl.schema_version (version integer NOT NULL); "
          "INSERT INTO mxctl.schema_version VALUES (0)");
      if (!made) {
        return tl::unexpected(rolled_back(connection, made.error()));
      }
      out.created = true;
    } else {
      auto read = connection.query("read the state store's schema version", "SELECT version FROM mxctl.schema_version");
      if (!read) {
        return tl::unexpected(rolled_back(connection, read.error()));
      }
      auto stored = read->rows.size() == 1 ? postgres::integer_value<decltype(version)>(read->rows[0].at(0))
                                           : std::nullopt;
      if (!stored) {
        return tl::unexpected(rolled_back(
            connection, model::make_error(model::Error::Kind::invalid,
                                          "database " + connection.where() +
                                              ": mxctl.schema_version does not hold one version; the state store "
                                              "is damaged")));
      }
      version = *stored;
    }
    if (version > PostgresStateStore::k_schema_version) {
      return tl::unexpected(rolled_back(
          connection, model::make_error(model::Error::Kind::invalid,
                                        "state store schema version " + std::to_string(version) +
                                            " in database " + connection.where() +
                                            " is newer than this mxctl supports (" +
                                            std::to_string(PostgresStateStore::k_schema_version) +
                                            "); upgrade mxctl")));
    }
    if (version == PostgresStateStore::k_schema_version) {
      if (auto committed = connection.execute("migrate the state store's schema", "COMMIT"); !committed) {
        return tl::unexpected(committed.error());
      }
      return out;
    }
    const Migration& next = k_migrations[version];
    const std::string doing = "migrate the state store's schema to version " + std::to_string(next.version);
    if (auto applied = connection.execute(doing, next.sql); !applied) {
      return tl::unexpected(rolled_back(connection, applied.error()));
    }
    auto set = connection.query(doing, "UPDATE mxctl.schema_version SET version = $1::integer",
                                {std::to_string(next.version)});
    if (!set) {
      return tl::unexpected(rolled_back(connection, set.error()));
    }
    if (auto committed = connection.execute(doing, "COMMIT"); !committed) {
      return tl::unexpected(committed.error());
    }
  }
}

}  // namespace adapters::postgres_store
