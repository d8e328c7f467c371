#pragma once
// An in-memory StateStore for controller tests: the same contract as the
// SQLite store, held in maps, plus a way to make writes fail. Thread-safe
// (the executor serialises its calls, but tests may read while it runs).
// Header-only so that only the suites that include it compile it.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/state_store.h"
#include "model/result.h"

namespace fakes {

class FakeStateStore final : public adapters::StateStore {
 public:
  /// While set, every write fails with `transient` "fake store: disk full".
  void set_writes_fail(bool fail) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_writes_fail = fail;
  }

  /// Every journal entry of every run, in the order recorded.
  std::vector<adapters::JournalEntry> all_entries() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_journal;
  }

  model::Result<std::map<std::string, std::string>> room_ids() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_room_ids;
  }

  model::Result<void> set_room_id(const std::string& key, const std::string& room_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_room_ids[key] = room_id;
    ++m_serial;
    return {};
  }

  model::Result<void> forget_room(const std::string& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_room_ids.erase(key);
    ++m_serial;
    return {};
  }

  model::Result<std::set<std::string>> messages_sent() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_messages_sent;
  }

  model::Result<void> mark_message_sent(const std::string& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_messages_sent.insert(key);
    ++m_serial;
    return {};
  }

  model::Result<std::string> sync_token() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_sync_token;
  }

  model::Result<void> set_sync_token(const std::string& token) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_sync_token = token;
    return {};
  }

  model::Result<std::set<std::pair<std::string, std::string>>> directs_set() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_directs_set;
  }

  model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_directs_set.emplace(room_key, user_id);
    return {};
  }

  model::Result<std::map<std::string, std::string>> room_snapshots() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_room_snapshots;
  }

  model::Result<void> save_observation(const std::string& sync_token,
                                       const std::map<std::string, std::optional<std::string>>& changed) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    for (const auto& [room_id, state] : changed) {
      if (state) {
        m_room_snapshots[room_id] = *state;
      } else {
        m_room_snapshots.erase(room_id);
      }
    }
    m_sync_token = sync_token;
    return {};
  }

  model::Result<bool> save_cache_unless_locked(const adapters::CacheUpdate& cache) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    if (*m_locked) {
      return false;
    }
    for (const auto& [key, room_id] : cache.room_ids) {
      m_room_ids[key] = room_id;
      ++m_serial;
    }
    for (const auto& [room_id, state] : cache.changed_snapshots) {
      if (state) {
        m_room_snapshots[room_id] = *state;
      } else {
        m_room_snapshots.erase(room_id);
      }
    }
    m_sync_token = cache.sync_token;
    for (const std::string& room_id : cache.rooms_reread) {
      m_rooms_written.erase(room_id);
    }
    m_messages_sent.insert(cache.messages_sent.begin(), cache.messages_sent.end());
    m_directs_set.insert(cache.directs_set.begin(), cache.directs_set.end());
    return true;
  }

  model::Result<std::set<std::string>> rooms_written() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_rooms_written;
  }

  model::Result<void> mark_room_written(const std::string& room_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_rooms_written.insert(room_id);
    return {};
  }

  model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    for (const std::string& room_id : room_ids) {
      m_rooms_written.erase(room_id);
    }
    return {};
  }

  model::Result<std::set<std::string>> journaled_room_creations() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    static const std::string k_prefix = "create room ";
    std::set<std::string> keys;
    for (const adapters::JournalEntry& entry : m_journal) {
      if (entry.operation.rfind(k_prefix, 0) == 0 && entry.operation.size() > k_prefix.size()) {
        keys.insert(entry.operation.substr(k_prefix.size()));
      }
    }
    return keys;
  }

  model::Result<std::int64_t> serial() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_serial;
  }

  model::Result<std::int64_t> begin_run(const std::string& command) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    adapters::RunRecord run;
    run.id = static_cast<std::int64_t>(m_runs.size()) + 1;
    run.command = command;
    run.started = std::chrono::system_clock::now();
    run.outcome = "running";
    m_runs.push_back(run);
    return run.id;
  }

  model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                 int failures) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (run_id < 1 || run_id > static_cast<std::int64_t>(m_runs.size())) {
      return model::fail(model::Error::Kind::not_found, "no run " + std::to_string(run_id));
    }
    adapters::RunRecord& run = m_runs[static_cast<std::size_t>(run_id - 1)];
    run.finished = std::chrono::system_clock::now();
    run.outcome = outcome;
    run.changes_applied = changes_applied;
    run.failures = failures;
    return {};
  }

  model::Result<std::vector<adapters::RunRecord>> runs(int limit) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<adapters::RunRecord> newest(m_runs.rbegin(), m_runs.rend());
    if (limit >= 0 && newest.size() > static_cast<std::size_t>(limit)) {
      newest.resize(static_cast<std::size_t>(limit));
    }
    return newest;
  }

  model::Result<void> record(const adapters::JournalEntry& entry) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_journal.push_back(entry);
    return {};
  }

  model::Result<std::vector<adapters::JournalEntry>> journal(std::int64_t run_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<adapters::JournalEntry> entries;
    for (const adapters::JournalEntry& entry : m_journal) {
      if (entry.run_id == run_id) {
        entries.push_back(entry);
      }
    }
    return entries;
  }

  /// Grouping changes nothing here (every write is visible at once); the
  /// policy and the calls are kept so tests can see how the store was used.
  model::Result<void> set_group_commit(std::optional<adapters::GroupCommit> policy) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_group_commit = policy;
    ++m_group_changes;
    return {};
  }
  model::Result<void> flush() override { return {}; }

  /// The group commit policy now in force (nullopt: none).
  std::optional<adapters::GroupCommit> group_commit() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_group_commit;
  }
  /// How often set_group_commit was called.
  int group_changes() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_group_changes;
  }

  model::Result<std::unique_ptr<adapters::StoreLock>> lock(const std::string& command) override {
    std::lock_guard<std::mutex> guard(m_mutex);
    if (*m_locked) {
      return model::fail(model::Error::Kind::conflict, "the store is locked by " + m_lock_holder);
    }
    *m_locked = true;
    m_lock_holder = command;
    return std::unique_ptr<adapters::StoreLock>(std::make_unique<Lock>(m_locked));
  }

  model::Result<std::string> unlock(const std::string& lock_id) override {
    std::lock_guard<std::mutex> guard(m_mutex);
    if (!*m_locked) {
      return tl::unexpected(model::make_error(model::Error::Kind::not_found, "the state store is not locked"));
    }
    if (lock_id != m_lock_holder) {
      return tl::unexpected(model::make_error(model::Error::Kind::conflict, "the lock is " + m_lock_holder));
    }
    *m_locked = false;
    return m_lock_holder;
  }

  model::Result<std::map<std::string, std::int64_t>> archive_records() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_archives;
  }

  model::Result<void> record_archive(const std::string& key, const std::string&, std::int64_t archived_at) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_archives.emplace(key, archived_at);
    return {};
  }

  model::Result<void> clear_archive(const std::string& key) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_archives.erase(key);
    return {};
  }

  model::Result<void> record_tombstone(const adapters::Tombstone& tombstone) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_tombstones.push_back(tombstone);
    m_room_ids.erase(tombstone.key);
    m_archives.erase(tombstone.key);
    m_messages_sent.erase(tombstone.key);
    ++m_serial;
    return {};
  }

  model::Result<std::vector<adapters::Tombstone>> tombstones() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_tombstones;
  }

  model::Result<std::map<std::string, std::string>> managed_accounts() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_accounts;
  }

  model::Result<void> remember_account(const std::string& key, const std::string& user_id) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_accounts[key] = user_id;
    return {};
  }

  model::Result<std::set<std::string>> suspended_accounts() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_suspended;
  }

  model::Result<void> set_account_suspended(const std::string& key, bool suspended) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    if (suspended) {
      m_suspended.insert(key);
    } else {
      m_suspended.erase(key);
    }
    return {};
  }

  model::Result<std::set<std::string>> protected_addresses() override {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_protected;
  }

  model::Result<void> set_protected(const std::string& address, bool is_protected) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    if (is_protected) {
      m_protected.insert(address);
    } else {
      m_protected.erase(address);
    }
    return {};
  }

  model::Result<void> append_audit(const adapters::AuditEntry& entry) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    m_audit.push_back(entry);
    m_audit.back().id = static_cast<std::int64_t>(m_audit.size());
    return {};
  }

  model::Result<std::vector<adapters::AuditEntry>> audit(const adapters::AuditQuery& query) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    std::vector<adapters::AuditEntry> out;
    for (const adapters::AuditEntry& entry : m_audit) {
      if ((!query.since || entry.at >= *query.since) && (query.key.empty() || entry.key == query.key)) {
        out.push_back(entry);
      }
    }
    return out;
  }

 private:
  std::map<std::string, std::int64_t> m_archives;
  std::vector<adapters::Tombstone> m_tombstones;
  std::map<std::string, std::string> m_accounts;
  std::set<std::string> m_protected;
  std::set<std::string> m_suspended;
  std::vector<adapters::AuditEntry> m_audit;
  // Releases on destruction; shares the flag so it may outlive the store.
  class Lock final : public adapters::StoreLock {
   public:
    explicit Lock(std::shared_ptr<std::atomic<bool>> locked) : m_locked(std::move(locked)) {}
    ~Lock() override { *m_locked = false; }

   private:
    std::shared_ptr<std::atomic<bool>> m_locked;
  };

  static tl::unexpected<model::Error> write_failure() {
    return model::fail(model::Error::Kind::transient, "fake store: disk full");
  }

  mutable std::mutex m_mutex;
  bool m_writes_fail = false;
  std::map<std::string, std::string> m_room_ids;
  std::set<std::string> m_messages_sent;
  std::string m_sync_token;
  std::map<std::string, std::string> m_room_snapshots;
  std::set<std::pair<std::string, std::string>> m_directs_set;
  std::set<std::string> m_rooms_written;
  std::int64_t m_serial = 0;
  std::vector<adapters::RunRecord> m_runs;
  std::vector<adapters::JournalEntry> m_journal;
  std::shared_ptr<std::atomic<bool>> m_locked = std::make_shared<std::atomic<bool>>(false);
  std::string m_lock_holder;
  std::optional<adapters::GroupCommit> m_group_commit;
  int m_group_changes = 0;
};

}  // namespace fakes
