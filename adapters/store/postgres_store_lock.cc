// The pass lock of PostgresStateStore: the session-level advisory lock of
// the store's database (taken, confirmed, released), the row naming its
// holder, and `mxctl unlock ID`.

#include <unistd.h>

#include <atomic>

#include "adapters/postgres/postgres_lease.h"
#include "adapters/store/lock_holder_identity.h"
#include "adapters/store/postgres_schema.h"
#include "adapters/store/postgres_state_store.h"
#include "adapters/store/store_time.h"

namespace adapters {

namespace {

// What the lock row says of its holder.
struct Holder {
  std::string lock_id;
  std::int64_t pid = 0;
  std::string hostname;
  std::string command;
  std::string acquired_at;
  int backend_pid = 0;
};

// "apply, pid 12 on host, lock 3f2a9c1b7d4e6a50, database session 4242"
std::string describe(const Holder& holder) {
  return holder.command + ", pid " + std::to_string(holder.pid) + " on " + holder.hostname + ", lock " +
         holder.lock_id + ", database session " + std::to_string(holder.backend_pid);
}

std::string holder_since(const std::string& stored) { return format_store_time(parse_store_time(stored), false); }

model::Result<std::optional<Holder>> read_holder(postgres::Connection& db, std::string_view doing) {
  auto rows = db.query(doing, "SELECT lock_id, pid, hostname, command, acquired_at, backend_pid FROM mxctl.lock");
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  if (rows->rows.empty()) {
    return std::nullopt;
  }
  const auto& row = rows->rows.front();
  for (const auto& value : row) {
    if (!value) {
      return model::fail(model::Error::Kind::invalid, "cannot " + std::string(doing) +
                                                          ": the lock row has an empty field; the store is damaged");
    }
  }
  auto pid = postgres::integer_value<decltype(Holder::pid)>(row[1]);
  auto backend_pid = postgres::integer_value<decltype(Holder::backend_pid)>(row[5]);
  if (!pid || !backend_pid) {
    return model::fail(model::Error::Kind::invalid,
                       "cannot " + std::string(doing) + ": the lock row's pids do not read; the store is damaged");
  }
  return Holder{*row[0], *pid, *row[2], *row[3], *row[4], *backend_pid};
}

model::Result<void> audit_lock_event(postgres::Connection& db, const std::string& at, const std::string& action,
                                     const Holder& old, const std::string& after, const std::string& why) {
  auto ran = db.query("record the lock change in the audit log",
                      "INSERT INTO mxctl.audit (run_id, at, action, key, target, before, after, result, message) "
                      "VALUES (0, $1, $2, 'lock', $3, $4, $5, 'ok', $6)",
                      {at, action, old.lock_id, describe(old), after, why});
  if (!ran) {
    return tl::unexpected(ran.error());
  }
  return {};
}

// Holds the advisory lock through the store's session; releasing commits
// the session's pending grouped writes first, so nothing written under the
// lock becomes visible after another holder has started.
class PostgresStoreLock final : public StoreLock {
 public:
  PostgresStoreLock(std::shared_ptr<PostgresSession> session, std::string lock_id, std::string took_over,
                    std::chrono::milliseconds confirm_within)
      : m_session(std::move(session)),
        m_lock_id(std::move(lock_id)),
        m_took_over(std::move(took_over)),
        m_confirm_within(confirm_within) {}

  ~PostgresStoreLock() override {
    std::lock_guard guard(m_session->mutex);
    postgres::Connection& db = *m_session->connection;
    if (!db.usable()) {
      return;  // the session ended, and the lock with it
    }
    if (db.in_transaction()) {
      (void)db.execute("commit grouped writes", "COMMIT");
    }
    (void)db.query("release the pass lock", "DELETE FROM mxctl.lock WHERE id = 1 AND lock_id = $1", {m_lock_id});
    (void)postgres::release_lease(db, postgres_store::pass_lock_key());
  }

  std::string took_over() const override { return m_took_over; }
  bool lost() const override { return m_lost.load(); }

  bool still_held() override {
    std::lock_guard guard(m_session->mutex);
    if (!m_lost.load() &&
        !postgres::holds_lease(*m_session->connection, postgres_store::pass_lock_key(), m_confirm_within)) {
      m_lost.store(true);
    }
    return !m_lost.load();
  }

 private:
  std::shared_ptr<PostgresSession> m_session;
  std::string m_lock_id;
  std::string m_took_over;
  std::chrono::milliseconds m_confirm_within;
  std::atomic<bool> m_lost{false};
};

}  // namespace

model::Result<std::unique_ptr<StoreLock>> PostgresStateStore::lock(const std::string& command) {
  const char* doing = "take the pass lock";
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  const std::int64_t key = postgres_store::pass_lock_key();
  auto session = postgres::lease_holder(db(), postgres_store::pass_lock_key());
  if (!session) {
    return tl::unexpected(session.error());
  }
  if (!*session || **session != db().backend_pid()) {
    auto taken = postgres::take_lease(db(), key);
    if (!taken) {
      return tl::unexpected(taken.error());
    }
    if (!*taken) {
      auto holder = read_holder(db(), doing);
      if (!holder) {
        return tl::unexpected(holder.error());
      }
      if (!*holder) {
        return model::fail(model::Error::Kind::conflict,
                           "another mxctl pass holds the lock of the state store in database " + where() +
                               " (it has not yet said who it is); try again");
      }
      const Holder& old = **holder;
      return model::fail(model::Error::Kind::conflict,
                         "another mxctl pass (" + describe(old) + ") has held the lock since " +
                             holder_since(old.acquired_at) +
                             "; it holds it while its database session lives. If that pass is gone, its session "
                             "ends with it; to end it now: SELECT pg_terminate_backend(" +
                             std::to_string(old.backend_pid) + ")");
    }
  } else {
    return model::fail(model::Error::Kind::conflict, "this process already holds the pass lock of the state store");
  }

  // The lease is ours: record who holds it, in one transaction.
  const std::string at = format_store_time(now());
  const std::string lock_id = new_lock_id();
  const std::int64_t pid = getpid();
  const std::string hostname = host_name();
  std::string took_over;
  auto recorded = atomically(doing, [&]() -> model::Result<void> {
    auto old = read_holder(db(), doing);
    if (!old) {
      return tl::unexpected(old.error());
    }
    const Holder mine{lock_id, pid, hostname, command, at, db().backend_pid()};
    auto written = query(doing,
                         "INSERT INTO mxctl.lock (id, lock_id, holder, pid, hostname, command, acquired_at, "
                         "backend_pid) VALUES (1, $1, $2, $3::bigint, $4, $5, $6, $7::integer) "
                         "ON CONFLICT (id) DO UPDATE SET lock_id = excluded.lock_id, holder = excluded.holder, "
                         "pid = excluded.pid, hostname = excluded.hostname, command = excluded.command, "
                         "acquired_at = excluded.acquired_at, backend_pid = excluded.backend_pid",
                         {lock_id, "pid " + std::to_string(pid) + " on " + hostname, std::to_string(pid), hostname,
                          command, at, std::to_string(mine.backend_pid)});
    if (!written) {
      return tl::unexpected(written.error());
    }
    // Only a lock holder runs, so a run still "running" ended without saying so.
    auto interrupted = query(doing, "UPDATE mxctl.runs SET outcome = 'interrupted', finished = $1 "
                                    "WHERE outcome = 'running'",
                             {at});
    if (!interrupted) {
      return tl::unexpected(interrupted.error());
    }
    if (*old) {
      took_over = "took over the pass lock of " + describe(**old) + ", held since " +
                  holder_since((*old)->acquired_at) + ": its database session ended";
      return audit_lock_event(db(), at, "take_over_lock", **old, describe(mine), took_over);
    }
    return {};
  });
  if (!recorded) {
    (void)postgres::release_lease(db(), key);
    return tl::unexpected(recorded.error());
  }
  return std::unique_ptr<StoreLock>(
      new PostgresStoreLock(m_session, lock_id, std::move(took_over), m_options.confirm_within));
}

model::Result<std::string> PostgresStateStore::unlock(const std::string& lock_id) {
  const char* doing = "remove the pass lock";
  std::lock_guard guard(m_session->mutex);
  if (auto flushed = flush_locked(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  std::string description;
  auto removed = atomically(doing, [&]() -> model::Result<void> {
    auto held = read_holder(db(), doing);
    if (!held) {
      return tl::unexpected(held.error());
    }
    if (!*held) {
      return model::fail(model::Error::Kind::not_found, "the state store is not locked");
    }
    const Holder& old = **held;
    if (old.lock_id != lock_id) {
      return model::fail(model::Error::Kind::conflict, "the lock is " + old.lock_id + " (" + describe(old) +
                                                           "), not " + lock_id + "; nothing was removed");
    }
    auto session = postgres::lease_holder(db(), postgres_store::pass_lock_key());
    if (!session) {
      return tl::unexpected(session.error());
    }
    if (*session) {
      return model::fail(model::Error::Kind::conflict,
                         "the lock " + lock_id + " is held by database session " + std::to_string(**session) +
                             ", which is alive: stop that mxctl, or end its session with SELECT "
                             "pg_terminate_backend(" +
                             std::to_string(**session) + "); nothing was removed");
    }
    auto deleted = query(doing, "DELETE FROM mxctl.lock WHERE id = 1 AND lock_id = $1", {lock_id});
    if (!deleted) {
      return tl::unexpected(deleted.error());
    }
    description = describe(old) + ", held since " + holder_since(old.acquired_at);
    const std::string by = "removed by mxctl unlock (pid " + std::to_string(getpid()) + " on " + host_name() + ")";
    return audit_lock_event(db(), format_store_time(now()), "unlock", old, "", by);
  });
  if (!removed) {
    return tl::unexpected(removed.error());
  }
  return description;
}

}  // namespace adapters
