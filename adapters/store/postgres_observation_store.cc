// The observation cache of PostgresStateStore, with the meaning of the
// SQLite store's (sqlite_observation_store.cc): room ids, sent messages,
// m.direct entries, the sync token and room snapshots, the reads of them,
// the rooms written since the last observation, and the cache a plan keeps.
// Writes of many items send each column as one text[] and unnest it, in
// batches of bounded size, rather than a statement (a round trip) per item.

#include "adapters/store/postgres_state_store.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/observation_cache.h"
#include "adapters/sha256.h"
#include "adapters/store/postgres_rows.h"
#include "adapters/store/postgres_schema.h"
#include "adapters/store/store_time.h"

namespace adapters {

namespace {

using postgres::without_rows;

// The WHERE makes re-recording the same id a no-op, so a converged pass
// neither writes nor moves the serial. A room id recorded for another key
// breaks rooms' unique room_id, which the connection reports as a conflict.
const char* const k_pg_set_room_id =
    "INSERT INTO mxctl.rooms (key, room_id, updated_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (key) DO UPDATE SET room_id = excluded.room_id, updated_at = excluded.updated_at "
    "WHERE mxctl.rooms.room_id IS DISTINCT FROM excluded.room_id";
const char* const k_set_room_ids =
    "INSERT INTO mxctl.rooms (key, room_id, updated_at) "
    "SELECT item.key, item.room_id, $3::text FROM unnest($1::text[], $2::text[]) AS item (key, room_id) "
    "ON CONFLICT (key) DO UPDATE SET room_id = excluded.room_id, updated_at = excluded.updated_at "
    "WHERE mxctl.rooms.room_id IS DISTINCT FROM excluded.room_id";
const char* const k_pg_mark_message_sent =
    "INSERT INTO mxctl.messages_sent (key, sent_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
const char* const k_mark_messages_sent =
    "INSERT INTO mxctl.messages_sent (key, sent_at) "
    "SELECT item.key, $2::text FROM unnest($1::text[]) AS item (key) ON CONFLICT (key) DO NOTHING";
const char* const k_pg_mark_direct_set =
    "INSERT INTO mxctl.directs_set (room_key, user_id, set_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
const char* const k_mark_directs_set =
    "INSERT INTO mxctl.directs_set (room_key, user_id, set_at) "
    "SELECT item.room_key, item.user_id, $3::text FROM unnest($1::text[], $2::text[]) AS item (room_key, user_id) "
    "ON CONFLICT DO NOTHING";
const char* const k_clear_rooms_written = "DELETE FROM mxctl.rooms_written WHERE room_id = ANY ($1::text[])";
const char* const k_pg_set_sync_token =
    "UPDATE mxctl.meta SET sync_token = $1::text WHERE id = 1 AND sync_token IS DISTINCT FROM $1::text";
const char* const k_save_snapshots =
    "INSERT INTO mxctl.room_snapshots (room_id, state, updated_at, digest) "
    "SELECT item.room_id, item.state, $4::text, item.digest "
    "FROM unnest($1::text[], $2::text[], $3::text[]) AS item (room_id, state, digest) "
    "ON CONFLICT (room_id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, "
    "digest = excluded.digest";
const char* const k_drop_snapshots = "DELETE FROM mxctl.room_snapshots WHERE room_id = ANY ($1::text[])";
const char* const k_keep_room_reads =
    "INSERT INTO mxctl.room_reads (room_id, digest, read) "
    "SELECT item.room_id, item.digest, decode(item.read, 'hex') "
    "FROM unnest($1::text[], $2::text[], $3::text[]) AS item (room_id, digest, read) "
    "ON CONFLICT (room_id) DO UPDATE SET digest = excluded.digest, read = excluded.read";
// Whether a session (this one included, as in the SQLite store, where the
// holder's own save is refused too) holds the pass lock. A bigint key shows
// in pg_locks as its high half in classid and its low half in objid, with
// objsubid 1.
const char* const k_pass_lock_held =
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND ((classid::bigint << 32) | objid::bigint) = $1::bigint)";

// What no statement should grow past: a first observation can hold every
// room's snapshot.
constexpr std::size_t k_batch_bytes = 4 * 1024 * 1024;

// The first two columns of every row, into `Map` (a map or a set of pairs).
template <typename Map>
model::Result<Map> pairs(model::Result<postgres::Rows> rows, std::string_view doing) {
  auto read = postgres_store::row_texts(std::move(rows), doing);
  if (!read) {
    return tl::unexpected(read.error());
  }
  Map out;
  for (std::vector<std::string>& row : *read) {
    out.emplace(std::move(row.at(0)), std::move(row.at(1)));
  }
  return out;
}

// The meta row's values; it is made with the schema and never deleted.
model::Result<std::vector<std::string>> meta_row(model::Result<postgres::Rows> rows, std::string_view doing) {
  auto read = postgres_store::row_texts(std::move(rows), doing);
  if (!read) {
    return tl::unexpected(read.error());
  }
  if (read->size() != 1) {
    return tl::unexpected(postgres_store::store_damaged(doing, "mxctl.meta has no row"));
  }
  return std::move(read->front());
}

// The parameters of one statement over many items: a text[] per column,
// each element quoted with \ and " escaped, so that any text (empty,
// "NULL", with braces, commas or quotes) arrives as itself. Sent whenever
// they grow past k_batch_bytes, and by finish().
class Batches {
 public:
  using Send = std::function<model::Result<void>(std::vector<postgres::Value>)>;

  Batches(std::string_view doing, Send send) : m_doing(doing), m_send(std::move(send)) {}

  // One item, its value for each column in order.
  model::Result<void> add(std::initializer_list<std::string_view> row) {
    if (m_arrays.empty()) {
      m_arrays.resize(row.size(), "{");
    }
    std::size_t column = 0;
    for (std::string_view text : row) {
      // libpq sends a text parameter up to its first NUL, and PostgreSQL's
      // text cannot hold one: refused rather than cut short.
      if (text.find('\0') != std::string_view::npos) {
        return model::fail(model::Error::Kind::invalid, "cannot " + std::string(m_doing) +
                                                            ": a text holds a NUL byte, which PostgreSQL cannot store");
      }
      std::string& array = m_arrays.at(column++);
      const std::size_t before = array.size();
      if (m_items > 0) {
        array += ',';
      }
      array += '"';
      for (char c : text) {
        if (c == '\\' || c == '"') {
          array += '\\';
        }
        array += c;
      }
      array += '"';
      m_bytes += array.size() - before;
    }
    ++m_items;
    return m_bytes >= k_batch_bytes ? send() : model::Result<void>();
  }

  // Sends what is left.
  model::Result<void> finish() { return m_items > 0 ? send() : model::Result<void>(); }

 private:
  model::Result<void> send() {
    std::vector<postgres::Value> params;
    params.reserve(m_arrays.size());
    for (std::string& array : m_arrays) {
      params.emplace_back(std::exchange(array, "{") + "}");
    }
    m_items = 0;
    m_bytes = 0;
    return m_send(std::move(params));
  }

  std::string_view m_doing;
  Send m_send;
  std::vector<std::string> m_arrays;
  std::size_t m_items = 0;
  std::size_t m_bytes = 0;
};

}  // namespace

model::Result<std::map<std::string, std::string>> PostgresStateStore::room_ids() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read room ids";
  return pairs<std::map<std::string, std::string>>(query(doing, "SELECT key, room_id FROM mxctl.rooms"), doing);
}

model::Result<void> PostgresStateStore::set_room_id(const std::string& key, const std::string& room_id) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "record room id for " + key;
  return grouped(doing, [&] {
    return without_rows(query(doing, k_pg_set_room_id, {key, room_id, format_store_time(now())}));
  });
}

model::Result<void> PostgresStateStore::forget_room(const std::string& key) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  const std::string doing = "forget room " + key;
  return atomically(doing, [&]() -> model::Result<void> {
    for (const char* sql : {"DELETE FROM mxctl.rooms WHERE key = $1", "DELETE FROM mxctl.messages_sent WHERE key = $1",
                            "DELETE FROM mxctl.directs_set WHERE room_key = $1"}) {
      if (auto deleted = without_rows(query(doing, sql, {key})); !deleted) {
        return deleted;
      }
    }
    return {};
  });
}

model::Result<std::set<std::string>> PostgresStateStore::messages_sent() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read sent messages";
  return postgres_store::text_set(query(doing, "SELECT key FROM mxctl.messages_sent"), doing);
}

model::Result<void> PostgresStateStore::mark_message_sent(const std::string& key) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "record message sent to " + key;
  return grouped(doing, [&] {
    return without_rows(query(doing, k_pg_mark_message_sent, {key, format_store_time(now())}));
  });
}

model::Result<std::set<std::pair<std::string, std::string>>> PostgresStateStore::directs_set() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read direct chats set";
  return pairs<std::set<std::pair<std::string, std::string>>>(
      query(doing, "SELECT room_key, user_id FROM mxctl.directs_set"), doing);
}

model::Result<void> PostgresStateStore::mark_direct_set(const std::string& room_key, const std::string& user_id) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "record m.direct set for " + user_id + " in " + room_key;
  return grouped(doing, [&] {
    return without_rows(query(doing, k_pg_mark_direct_set, {room_key, user_id, format_store_time(now())}));
  });
}

model::Result<void> PostgresStateStore::forget_directs(const std::string& room_key) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "forget m.direct records of " + room_key;
  return grouped(doing, [&] {
    return without_rows(query(doing, "DELETE FROM mxctl.directs_set WHERE room_key = $1", {room_key}));
  });
}

model::Result<std::string> PostgresStateStore::sync_token() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read sync token";
  auto row = meta_row(query(doing, "SELECT sync_token FROM mxctl.meta WHERE id = 1"), doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  return std::move(row->at(0));
}

model::Result<void> PostgresStateStore::set_sync_token(const std::string& token) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  // One statement with no group open: atomic and durable on its own.
  return without_rows(query("record sync token", k_pg_set_sync_token, {token}));
}

model::Result<std::map<std::string, std::string>> PostgresStateStore::room_snapshots() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read room snapshots";
  return pairs<std::map<std::string, std::string>>(query(doing, "SELECT room_id, state FROM mxctl.room_snapshots"),
                                                   doing);
}

model::Result<std::map<std::string, std::string>> PostgresStateStore::room_snapshot_digests() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read room snapshot digests";
  return pairs<std::map<std::string, std::string>>(query(doing, "SELECT room_id, digest FROM mxctl.room_snapshots"),
                                                   doing);
}

model::Result<std::optional<std::string>> PostgresStateStore::room_snapshot(const std::string& room_id) {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read a room snapshot";
  auto read = postgres_store::row_texts(
      query(doing, "SELECT state FROM mxctl.room_snapshots WHERE room_id = $1", {room_id}), doing);
  if (!read) {
    return tl::unexpected(read.error());
  }
  if (read->empty()) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(std::move(read->front().at(0)));
}

model::Result<void> PostgresStateStore::save_observation(
    const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  return atomically("record observation", [&] { return write_observation(sync_token, changed); });
}

model::Result<void> PostgresStateStore::write_observation(
    const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) {
  const char* doing = "record observation";
  const std::string at = format_store_time(now());
  Batches saved(doing, [&](std::vector<postgres::Value> params) {
    params.emplace_back(at);
    return without_rows(query(doing, k_save_snapshots, params));
  });
  Batches dropped(
      doing, [&](std::vector<postgres::Value> params) { return without_rows(query(doing, k_drop_snapshots, params)); });
  for (const auto& [room_id, state] : changed) {
    auto added = state ? saved.add({room_id, *state, snapshot_digest(*state)}) : dropped.add({room_id});
    if (!added) {
      return added;
    }
  }
  for (Batches* batches : {&saved, &dropped}) {
    if (auto sent = batches->finish(); !sent) {
      return sent;
    }
  }
  return without_rows(query(doing, k_pg_set_sync_token, {sync_token}));
}

model::Result<bool> PostgresStateStore::save_cache_unless_locked(const CacheUpdate& update) {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "save the observation cache";
  // Pending grouped writes go first: the transaction below must not take
  // them into a commit (or rollback) of its own.
  if (auto flushed = flush_locked(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  bool locked = false;
  auto saved = atomically(doing, [&]() -> model::Result<void> {
    // Taking the pass lock writes the holder row, which waits for this
    // transaction from here on: so no pass can take the lock, and mark a
    // room written that this save then forgets, between the check and the
    // commit (as in the SQLite store, whose write transaction keeps the
    // lock row still).
    if (auto held = without_rows(query(doing, "LOCK TABLE mxctl.lock IN SHARE MODE")); !held) {
      return held;
    }
    auto holder = query(doing, k_pass_lock_held, {std::to_string(postgres_store::pass_lock_key())});
    if (!holder) {
      return tl::unexpected(holder.error());
    }
    if (holder->rows.size() != 1 || holder->rows[0].size() != 1 || !holder->rows[0][0]) {
      return model::fail(model::Error::Kind::invalid, "cannot " + std::string(doing) + ": pg_locks gave no answer");
    }
    locked = *holder->rows[0][0] == "t";
    if (locked) {
      return {};
    }
    const std::string at = format_store_time(now());
    auto with_at = [&](const char* sql) {
      return [this, doing, sql, &at](std::vector<postgres::Value> params) {
        params.emplace_back(at);
        return without_rows(query(doing, sql, params));
      };
    };
    Batches room_ids(doing, with_at(k_set_room_ids));
    for (const auto& [key, room_id] : update.room_ids) {
      if (auto added = room_ids.add({key, room_id}); !added) {
        return added;
      }
    }
    if (auto sent = room_ids.finish(); !sent) {
      return sent;
    }
    if (auto written = write_observation(update.sync_token, update.changed_snapshots); !written) {
      return written;
    }
    Batches reread(doing, [&](std::vector<postgres::Value> params) {
      return without_rows(query(doing, k_clear_rooms_written, params));
    });
    for (const std::string& room_id : update.rooms_reread) {
      if (auto added = reread.add({room_id}); !added) {
        return added;
      }
    }
    if (auto sent = reread.finish(); !sent) {
      return sent;
    }
    Batches messages(doing, with_at(k_mark_messages_sent));
    for (const std::string& key : update.messages_sent) {
      if (auto added = messages.add({key}); !added) {
        return added;
      }
    }
    if (auto sent = messages.finish(); !sent) {
      return sent;
    }
    Batches directs(doing, with_at(k_mark_directs_set));
    for (const auto& [room_key, user_id] : update.directs_set) {
      if (auto added = directs.add({room_key, user_id}); !added) {
        return added;
      }
    }
    return directs.finish();
  });
  if (!saved) {
    return tl::unexpected(saved.error());
  }
  return !locked;
}

model::Result<std::set<std::string>> PostgresStateStore::rooms_written() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the rooms written";
  return postgres_store::text_set(query(doing, "SELECT room_id FROM mxctl.rooms_written"), doing);
}

model::Result<void> PostgresStateStore::mark_room_written(const std::string& room_id) {
  std::lock_guard guard(m_session->mutex);
  const std::string doing = "record a write to " + room_id;
  return grouped(doing, [&] {
    return without_rows(query(doing,
                              "INSERT INTO mxctl.rooms_written (room_id, written_at) VALUES ($1, $2) "
                              "ON CONFLICT (room_id) DO NOTHING",
                              {room_id, format_store_time(now())}));
  });
}

model::Result<void> PostgresStateStore::clear_rooms_written(const std::set<std::string>& room_ids) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  if (room_ids.empty()) {
    return {};
  }
  const char* doing = "forget the rooms re-read";
  return atomically(doing, [&]() -> model::Result<void> {
    Batches cleared(doing, [&](std::vector<postgres::Value> params) {
      return without_rows(query(doing, k_clear_rooms_written, params));
    });
    for (const std::string& room_id : room_ids) {
      if (auto added = cleared.add({room_id}); !added) {
        return added;
      }
    }
    return cleared.finish();
  });
}

model::Result<std::map<std::string, KeptRoomRead>> PostgresStateStore::room_reads() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the kept room reads";
  auto read = postgres_store::row_texts(
      query(doing, "SELECT room_id, digest, encode(read, 'hex') FROM mxctl.room_reads"), doing);
  if (!read) {
    return tl::unexpected(read.error());
  }
  std::map<std::string, KeptRoomRead> reads;
  for (std::vector<std::string>& row : *read) {
    auto bytes = bytes_from_hex(row.at(2));
    if (!bytes) {
      return tl::unexpected(
          postgres_store::store_damaged(doing, "the read of " + row.at(0) + " did not come back as hex"));
    }
    reads[std::move(row.at(0))] = KeptRoomRead{std::move(row.at(1)), std::move(*bytes)};
  }
  return reads;
}

model::Result<void> PostgresStateStore::keep_room_reads(const std::map<std::string, KeptRoomRead>& reads) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  const char* doing = "keep the room reads";
  return atomically(doing, [&]() -> model::Result<void> {
    Batches kept(doing, [&](std::vector<postgres::Value> params) {
      return without_rows(query(doing, k_keep_room_reads, params));
    });
    for (const auto& [room_id, read] : reads) {
      if (auto added = kept.add({room_id, read.digest, lower_hex(read.read)}); !added) {
        return added;
      }
    }
    if (auto sent = kept.finish(); !sent) {
      return sent;
    }
    return without_rows(
        query(doing,
              "DELETE FROM mxctl.room_reads AS kept WHERE NOT EXISTS "
              "(SELECT 1 FROM mxctl.room_snapshots AS snapshot WHERE snapshot.room_id = kept.room_id)"));
  });
}

model::Result<std::optional<KeptProbe>> PostgresStateStore::kept_probe() {
  std::lock_guard guard(m_session->mutex);
  const char* doing = "read the kept probe";
  auto row =
      meta_row(query(doing, "SELECT probe_key, probe_answer, probe_taken_at FROM mxctl.meta WHERE id = 1"), doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (row->at(0).empty()) {
    return std::optional<KeptProbe>();
  }
  auto taken_at_ms = postgres::integer_value<std::int64_t>(row->at(2));
  if (!taken_at_ms) {
    return tl::unexpected(postgres_store::store_damaged(doing, "mxctl.meta.probe_taken_at is not an integer"));
  }
  return std::optional<KeptProbe>(KeptProbe{std::move(row->at(0)), std::move(row->at(1)), *taken_at_ms});
}

model::Result<void> PostgresStateStore::keep_probe(const KeptProbe& probe) {
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return flushed;
  }
  return without_rows(query("keep the probe",
                   "UPDATE mxctl.meta SET probe_key = $1, probe_answer = $2, probe_taken_at = $3::bigint WHERE id = 1",
                   {probe.key, probe.answer, std::to_string(probe.taken_at_ms)}));
}

}  // namespace adapters
