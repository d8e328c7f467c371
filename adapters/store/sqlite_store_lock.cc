// The pass lock of SqliteStateStore: taking it (or taking over one whose
// lease ran out), renewing its lease from a thread of its own while a pass
// runs, releasing it, and `mxctl unlock ID`.

#include "adapters/store/sqlite_store_lock.h"

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include <unistd.h>

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_schema.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

namespace {

using Clock = std::chrono::system_clock;

// A pid that exists on this host, even one we may not signal (EPERM: another
// user's process), may still hold the lock. A pid <= 0 cannot be a holder,
// and kill() would address a process group instead.
bool process_alive(std::int64_t pid) {
  if (pid <= 0) {
    return false;
  }
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

Clock::time_point lease_end(const LockRow& row, std::chrono::milliseconds default_lease) {
  const std::string& renewed = row.renewed_at.empty() ? row.acquired_at : row.renewed_at;
  const auto lease = row.lease_ms > 0 ? std::chrono::milliseconds(row.lease_ms) : default_lease;
  return parse_store_time(renewed) + lease;
}

// "apply, pid 12 on host, lock 3f2a9c1b7d4e6a50"
std::string describe_holder(const LockRow& row) {
  std::string text = row.command + ", pid " + std::to_string(row.pid) + " on " + row.hostname;
  if (!row.lock_id.empty()) {
    text += ", lock " + row.lock_id;
  }
  return text;
}

std::string since_text(const std::string& stored) { return format_store_time(parse_store_time(stored), false); }

// An audit row written in the lock's own transaction: taking over or
// removing a lock is an operator-visible event, never a silent one.
model::Result<void> audit_lock_event(sqlite::Database& db, const std::string& at, const std::string& action,
                                     const LockRow& old, const std::string& after, const std::string& why) {
  const char* doing = "record the lock change in the audit log";
  auto stmt = db.cached(
      "INSERT INTO audit (run_id, at, action, key, target, before, after, result, message) "
      "VALUES (0, ?1, ?2, 'lock', ?3, ?4, ?5, 'ok', ?6)",
      doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  stmt->bind_text(1, at).bind_text(2, action).bind_text(3, old.lock_id).bind_text(4, describe_holder(old));
  stmt->bind_text(5, after).bind_text(6, why);
  if (auto ran = stmt->run(doing); !ran) {
    return tl::unexpected(ran.error());
  }
  return {};
}

// Renews the lease every `every` on a connection of its own (the store's
// is not thread-safe) until stopped, or until the row is no longer this
// lock's: another process took it over, and renewing stops.
class Heartbeat {
 public:
  Heartbeat(std::string path, std::string lock_id, std::chrono::milliseconds every,
            std::chrono::milliseconds busy_timeout, std::function<Clock::time_point()> clock)
      : m_thread([this, path = std::move(path), lock_id = std::move(lock_id), every, busy_timeout,
                  clock = std::move(clock)] { run(path, lock_id, every, busy_timeout, clock); }) {}

  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> guard(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
  }

  bool lost() const {
    std::lock_guard<std::mutex> guard(m_mutex);
    return m_lost;
  }

 private:
  void run(const std::string& path, const std::string& lock_id, std::chrono::milliseconds every,
           std::chrono::milliseconds busy_timeout, const std::function<Clock::time_point()>& clock) {
    auto db = sqlite::Database::open(path, "renew the pass lock");
    if (!db) {
      return;  // the lease runs out, and the pass ends before it matters or is taken over
    }
    sqlite3_busy_timeout((*db)->handle(), static_cast<int>(busy_timeout.count()));
    std::unique_lock<std::mutex> guard(m_mutex);
    while (!m_wake.wait_for(guard, every, [this] { return m_stop; })) {
      guard.unlock();
      // A busy or failed renewal is tried again at the next beat; the lease
      // is many beats long.
      std::optional<int> renewed;
      auto stmt = (*db)->cached("UPDATE lock SET renewed_at = ?1 WHERE id = 1 AND lock_id = ?2", "renew the pass lock");
      if (stmt) {
        stmt->bind_text(1, format_store_time(clock())).bind_text(2, lock_id);
        if (auto ran = stmt->run("renew the pass lock")) {
          renewed = *ran;
        }
      }
      guard.lock();
      if (renewed && *renewed == 0) {
        m_lost = true;
        return;
      }
    }
  }

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;
  bool m_lost = false;
  // Last: started once everything it uses exists.
  std::thread m_thread;
};

// Lock ids this process holds: a lock row with this process's pid but an
// id not among them was written by an earlier process with the same pid
// (in a container, every run is pid 1 on the same host name).
std::mutex g_held_mutex;
std::set<std::string> g_held_here;

void hold_here(const std::string& lock_id) {
  std::lock_guard<std::mutex> lock(g_held_mutex);
  g_held_here.insert(lock_id);
}

void release_here(const std::string& lock_id) {
  std::lock_guard<std::mutex> lock(g_held_mutex);
  g_held_here.erase(lock_id);
}

bool held_here(const std::string& lock_id) {
  std::lock_guard<std::mutex> lock(g_held_mutex);
  return g_held_here.count(lock_id) > 0;
}

// The lock row this process wrote; deleting it releases the lock. The delete
// matches the lock id, so a lock someone else took over is left alone.
class SqliteStoreLock final : public StoreLock {
 public:
  SqliteStoreLock(std::shared_ptr<sqlite::Database> db, std::string lock_id, std::string took_over,
                  std::unique_ptr<Heartbeat> heartbeat)
      : m_db(std::move(db)),
        m_lock_id(std::move(lock_id)),
        m_took_over(std::move(took_over)),
        m_heartbeat(std::move(heartbeat)) {}

  ~SqliteStoreLock() override {
    release_here(m_lock_id);
    m_heartbeat.reset();
    // The pass's grouped writes are made durable before the lock goes, so
    // the next pass never starts from less than this one wrote. The only
    // transaction open between calls is the store's group.
    if (sqlite3_get_autocommit(m_db->handle()) == 0 &&
        sqlite3_exec(m_db->handle(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
      sqlite3_exec(m_db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // Errors are ignored: a row left behind is taken over once its lease
    // runs out (at once on this host, its pid being gone).
    auto stmt = m_db->cached("DELETE FROM lock WHERE id = 1 AND lock_id = ?1", "release the pass lock");
    if (stmt) {
      stmt->bind_text(1, m_lock_id);
      (void)stmt->run("release the pass lock");
    }
  }

  std::string took_over() const override { return m_took_over; }
  bool lost() const override { return m_heartbeat && m_heartbeat->lost(); }

 private:
  std::shared_ptr<sqlite::Database> m_db;
  std::string m_lock_id;
  std::string m_took_over;
  std::unique_ptr<Heartbeat> m_heartbeat;
};

}  // namespace

model::Result<std::optional<LockRow>> read_lock_row(sqlite::Database& db, bool with_lease) {
  const char* doing = "read the pass lock";
  auto held = db.cached(with_lease ? "SELECT pid, hostname, command, acquired_at, lock_id, renewed_at, lease_ms "
                                     "FROM lock WHERE id = 1"
                                   : "SELECT pid, hostname, command, acquired_at, '', acquired_at, 0 "
                                     "FROM lock WHERE id = 1",
                        doing);
  if (!held) {
    return tl::unexpected(held.error());
  }
  auto row = held->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row) {
    return std::nullopt;
  }
  return LockRow{held->int64(0), held->text(1), held->text(2), held->text(3),
                 held->text(4),  held->text(5), held->int64(6)};
}

LockHolder holder_state(const LockRow& row, Clock::time_point now, const std::string& host,
                        std::chrono::milliseconds default_lease) {
  if (row.hostname == host && !process_alive(row.pid)) {
    return LockHolder::dead;
  }
  if (row.hostname == host && row.pid == getpid() && !held_here(row.lock_id)) {
    return LockHolder::dead;  // an earlier process that had our pid: it is gone
  }
  return now > lease_end(row, default_lease) ? LockHolder::expired : LockHolder::live;
}

model::Result<bool> crash_suspected(sqlite::Database& db, std::int64_t version, Clock::time_point now,
                                    std::chrono::milliseconds default_lease) {
  if (version < 1) {
    return false;
  }
  auto row = read_lock_row(db, version >= 6);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (*row) {
    return holder_state(**row, now, host_name(), default_lease) != LockHolder::live;
  }
  auto running = db.query_int64("SELECT count(*) FROM runs WHERE outcome = 'running'", "read the run history");
  if (!running) {
    return tl::unexpected(running.error());
  }
  return *running > 0;
}

model::Result<LockRowTransaction> SqliteStateStore::begin_at_lock_row(std::string_view doing) {
  // Pending grouped writes go first: the transaction below must not swallow
  // them into a commit (or rollback) of its own.
  if (auto flushed = flush(); !flushed) {
    return tl::unexpected(flushed.error());
  }
  auto txn = sqlite::Transaction::begin(*m_db, doing);
  if (!txn) {
    return tl::unexpected(txn.error());
  }
  auto row = read_lock_row(*m_db, true);
  if (!row) {
    return tl::unexpected(row.error());
  }
  return LockRowTransaction{std::move(*txn), std::move(*row)};
}

model::Result<std::unique_ptr<StoreLock>> SqliteStateStore::lock(const std::string& command) {
  const char* doing = "take the pass lock";
  const std::int64_t pid = getpid();
  const std::string hostname = host_name();
  auto held = begin_at_lock_row(doing);
  if (!held) {
    return tl::unexpected(held.error());
  }
  const Clock::time_point now = this->now();
  const std::string at = format_store_time(now);
  std::string took_over;
  if (held->row) {
    const LockRow& old = *held->row;
    const LockHolder state = holder_state(old, now, hostname, m_options.lease);
    if (state == LockHolder::live) {
      return model::fail(model::Error::Kind::conflict,
                         "another mxctl pass (" + describe_holder(old) + ") has held the lock since " +
                             since_text(old.acquired_at) + "; its lease, renewed while it runs, lasts until " +
                             format_store_time(lease_end(old, m_options.lease), false) +
                             ". If that pass is gone, wait until then or remove the lock with: mxctl unlock " +
                             old.lock_id);
    }
    const std::string why = state == LockHolder::dead
                                ? "its process is gone"
                                : "its lease ran out at " + format_store_time(lease_end(old, m_options.lease), false);
    took_over = "took over the pass lock of " + describe_holder(old) + ", held since " +
                since_text(old.acquired_at) + ": " + why;
  }
  const std::string lock_id = new_lock_id();
  auto take = m_db->cached(
      "INSERT OR REPLACE INTO lock (id, holder, pid, hostname, command, acquired_at, lock_id, renewed_at, lease_ms) "
      "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7)",
      doing);
  if (!take) {
    return tl::unexpected(take.error());
  }
  take->bind_text(1, "pid " + std::to_string(pid) + " on " + hostname)
      .bind_int64(2, pid)
      .bind_text(3, hostname)
      .bind_text(4, command)
      .bind_text(5, at)
      .bind_text(6, lock_id)
      .bind_int64(7, m_options.lease.count());
  if (auto taken = take->run(doing); !taken) {
    return tl::unexpected(taken.error());
  }
  // Only a lock holder begins runs, so a run still "running" now ended
  // without saying so.
  auto interrupted = m_db->cached(
      "UPDATE runs SET outcome = 'interrupted', finished = ?1 WHERE outcome = 'running'", doing);
  if (!interrupted) {
    return tl::unexpected(interrupted.error());
  }
  interrupted->bind_text(1, at);
  if (auto ran = interrupted->run(doing); !ran) {
    return tl::unexpected(ran.error());
  }
  if (!took_over.empty()) {
    LockRow mine{pid, hostname, command, at, lock_id, at, m_options.lease.count()};
    if (auto audited = audit_lock_event(*m_db, at, "take_over_lock", *held->row, describe_holder(mine), took_over);
        !audited) {
      return tl::unexpected(audited.error());
    }
  }
  // Known as ours before any other store in this process can read the row.
  hold_here(lock_id);
  if (auto committed = held->txn.commit(doing); !committed) {
    release_here(lock_id);
    return tl::unexpected(committed.error());
  }
  std::unique_ptr<Heartbeat> heartbeat;
  if (m_path != ":memory:" && m_options.renew_every.count() > 0) {
    auto clock = m_options.clock ? m_options.clock : [] { return Clock::now(); };
    heartbeat = std::make_unique<Heartbeat>(m_path, lock_id, m_options.renew_every, m_options.busy_timeout, clock);
  }
  return std::unique_ptr<StoreLock>(new SqliteStoreLock(m_db, lock_id, std::move(took_over), std::move(heartbeat)));
}

model::Result<std::string> SqliteStateStore::unlock(const std::string& lock_id) {
  const char* doing = "remove the pass lock";
  auto held = begin_at_lock_row(doing);
  if (!held) {
    return tl::unexpected(held.error());
  }
  if (!held->row) {
    return model::fail(model::Error::Kind::not_found, "the state store is not locked");
  }
  const LockRow& old = *held->row;
  if (old.lock_id != lock_id) {
    return model::fail(model::Error::Kind::conflict, "the lock is " + old.lock_id + " (" + describe_holder(old) +
                                                         "), not " + lock_id + "; nothing was removed");
  }
  auto removed = m_db->cached("DELETE FROM lock WHERE id = 1 AND lock_id = ?1", doing);
  if (!removed) {
    return tl::unexpected(removed.error());
  }
  removed->bind_text(1, lock_id);
  if (auto ran = removed->run(doing); !ran) {
    return tl::unexpected(ran.error());
  }
  const std::string description = describe_holder(old) + ", held since " + since_text(old.acquired_at);
  const std::string by = "removed by mxctl unlock (pid " + std::to_string(getpid()) + " on " + host_name() + ")";
  if (auto audited = audit_lock_event(*m_db, format_store_time(now()), "unlock", old, "", by); !audited) {
    return tl::unexpected(audited.error());
  }
  if (auto committed = held->txn.commit(doing); !committed) {
    return tl::unexpected(committed.error());
  }
  return description;
}

}  // namespace adapters
