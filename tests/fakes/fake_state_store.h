#pragma once
// The real SQLite store, in memory, behind a wrapper that injects failures
// (as controller-runtime's interceptor wraps a real client): the controller
// tests run against the store's own semantics, not a second copy of them.
// Thread-safe (the executor serialises its calls, but tests may read while
// it runs). Header-only so that only the suites that include it compile it.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "adapters/state_store.h"
#include "adapters/store/sqlite_state_store.h"
#include "model/result.h"

namespace fakes {

class FakeStateStore final : public adapters::StateStore {
 public:
  /// A new, empty store in memory; throws when SQLite cannot make one.
  FakeStateStore() {
    auto opened = adapters::SqliteStateStore::open(":memory:");
    if (!opened) {
      throw std::runtime_error(opened.error().message);
    }
    m_store = std::move(*opened);
  }

  /// While set, every write but the run history, the lock and group commit
  /// fails with `transient` "fake store: disk full", and changes nothing.
  void set_writes_fail(bool fail) {
    std::lock_guard<std::mutex> guard(*m_mutex);
    m_writes_fail = fail;
  }

  /// Every journal entry of every run, run by run, each in the order recorded.
  std::vector<adapters::JournalEntry> all_entries() const {
    std::lock_guard<std::mutex> guard(*m_mutex);
    std::vector<adapters::JournalEntry> entries;
    for (std::int64_t run = 1; run <= m_last_run; ++run) {
      if (auto journal = m_store->journal(run)) {
        entries.insert(entries.end(), journal->begin(), journal->end());
      }
    }
    return entries;
  }

  /// The group commit policy now in force (nullopt: none).
  std::optional<adapters::GroupCommit> group_commit() const {
    std::lock_guard<std::mutex> guard(*m_mutex);
    return m_group_commit;
  }
  /// How often set_group_commit was called.
  int group_changes() const {
    std::lock_guard<std::mutex> guard(*m_mutex);
    return m_group_changes;
  }

  // ObservationCache.
  model::Result<std::map<std::string, std::string>> room_ids() override { return forward(&Store::room_ids); }
  model::Result<void> set_room_id(const std::string& key, const std::string& room_id) override {
    return write(&Store::set_room_id, key, room_id);
  }
  model::Result<void> forget_room(const std::string& key) override { return write(&Store::forget_room, key); }
  model::Result<std::set<std::string>> messages_sent() override { return forward(&Store::messages_sent); }
  model::Result<void> mark_message_sent(const std::string& key) override {
    return write(&Store::mark_message_sent, key);
  }
  model::Result<std::set<std::pair<std::string, std::string>>> directs_set() override {
    return forward(&Store::directs_set);
  }
  model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) override {
    return write(&Store::mark_direct_set, room_key, user_id);
  }
  model::Result<void> forget_directs(const std::string& room_key) override {
    return write(&Store::forget_directs, room_key);
  }
  model::Result<std::string> sync_token() override { return forward(&Store::sync_token); }
  model::Result<void> set_sync_token(const std::string& token) override {
    return write(&Store::set_sync_token, token);
  }
  model::Result<std::map<std::string, std::string>> room_snapshots() override {
    return forward(&Store::room_snapshots);
  }
  model::Result<std::map<std::string, std::string>> room_snapshot_digests() override {
    return forward(&Store::room_snapshot_digests);
  }
  model::Result<std::optional<std::string>> room_snapshot(const std::string& room_id) override {
    return forward(&Store::room_snapshot, room_id);
  }
  model::Result<void> save_observation(const std::string& sync_token,
                                       const std::map<std::string, std::optional<std::string>>& changed) override {
    return write(&Store::save_observation, sync_token, changed);
  }
  model::Result<bool> save_cache_unless_locked(const adapters::CacheUpdate& update) override {
    return write(&Store::save_cache_unless_locked, update);
  }
  model::Result<std::set<std::string>> rooms_written() override { return forward(&Store::rooms_written); }
  model::Result<void> mark_room_written(const std::string& room_id) override {
    return write(&Store::mark_room_written, room_id);
  }
  model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) override {
    return write(&Store::clear_rooms_written, room_ids);
  }
  model::Result<std::map<std::string, adapters::KeptRoomRead>> room_reads() override {
    return forward(&Store::room_reads);
  }
  model::Result<void> keep_room_reads(const std::map<std::string, adapters::KeptRoomRead>& reads) override {
    return write(&Store::keep_room_reads, reads);
  }
  model::Result<std::optional<adapters::KeptProbe>> kept_probe() override { return forward(&Store::kept_probe); }
  model::Result<void> keep_probe(const adapters::KeptProbe& probe) override {
    return write(&Store::keep_probe, probe);
  }

  // CompiledDesiredCache.
  model::Result<std::optional<adapters::CompiledDesired>> compiled_desired() override {
    return forward(&Store::compiled_desired);
  }
  model::Result<std::optional<std::string>> compiled_desired_digest() override {
    return forward(&Store::compiled_desired_digest);
  }
  model::Result<void> keep_compiled_desired(const adapters::CompiledDesired& compiled) override {
    return write(&Store::keep_compiled_desired, compiled);
  }

  // ConvergedVerdicts.
  model::Result<std::optional<adapters::ConvergedVerdict>> converged_verdict() override {
    return forward(&Store::converged_verdict);
  }
  model::Result<void> keep_converged_verdict(const adapters::ConvergedVerdict& verdict) override {
    return write(&Store::keep_converged_verdict, verdict);
  }

  // PassLog.
  model::Result<std::int64_t> begin_run(const std::string& command) override {
    std::lock_guard<std::mutex> guard(*m_mutex);
    auto run = m_store->begin_run(command);
    if (run) {
      m_last_run = *run;
    }
    return run;
  }
  model::Result<void> finish_run(std::int64_t run_id, const std::string& outcome, int changes_applied,
                                 int failures) override {
    return forward(&Store::finish_run, run_id, outcome, changes_applied, failures);
  }
  model::Result<std::vector<adapters::RunRecord>> runs(int limit) override { return forward(&Store::runs, limit); }
  /// The executor tests journal under a run id no pass began, which the
  /// real store refuses; the runs up to it are begun first.
  model::Result<void> record(const adapters::JournalEntry& entry) override {
    std::lock_guard<std::mutex> guard(*m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    while (m_last_run < entry.run_id) {
      auto run = m_store->begin_run("test");
      if (!run) {
        return tl::unexpected(run.error());
      }
      m_last_run = *run;
    }
    return m_store->record(entry);
  }
  model::Result<std::vector<adapters::JournalEntry>> journal(std::int64_t run_id) override {
    return forward(&Store::journal, run_id);
  }
  model::Result<std::set<std::string>> journaled_room_creations() override {
    return forward(&Store::journaled_room_creations);
  }
  model::Result<void> append_audit(const adapters::AuditEntry& entry) override {
    return write(&Store::append_audit, entry);
  }
  model::Result<std::vector<adapters::AuditEntry>> audit(const adapters::AuditQuery& query) override {
    return forward(&Store::audit, query);
  }

  // LifecycleStore.
  model::Result<std::map<std::string, std::int64_t>> archive_records() override {
    return forward(&Store::archive_records);
  }
  model::Result<void> record_archive(const std::string& key, const std::string& room_id,
                                     std::int64_t archived_at) override {
    return write(&Store::record_archive, key, room_id, archived_at);
  }
  model::Result<void> clear_archive(const std::string& key) override { return write(&Store::clear_archive, key); }
  model::Result<void> record_tombstone(const adapters::Tombstone& tombstone) override {
    return write(&Store::record_tombstone, tombstone);
  }
  model::Result<std::vector<adapters::Tombstone>> tombstones() override { return forward(&Store::tombstones); }
  model::Result<std::map<std::string, std::string>> managed_accounts() override {
    return forward(&Store::managed_accounts);
  }
  model::Result<void> remember_account(const std::string& key, const std::string& user_id) override {
    return write(&Store::remember_account, key, user_id);
  }
  model::Result<std::set<std::string>> suspended_accounts() override { return forward(&Store::suspended_accounts); }
  model::Result<void> set_account_suspended(const std::string& key, bool suspended) override {
    return write(&Store::set_account_suspended, key, suspended);
  }
  model::Result<std::set<std::string>> protected_addresses() override { return forward(&Store::protected_addresses); }
  model::Result<void> set_protected(const std::string& address, bool is_protected) override {
    return write(&Store::set_protected, address, is_protected);
  }

  // AppserviceTransactions.
  model::Result<bool> record_transaction(const std::string& txn_id) override {
    return forward(&Store::record_transaction, txn_id);
  }

  // PassLock.
  model::Result<std::unique_ptr<adapters::StoreLock>> lock(const std::string& command) override {
    std::lock_guard<std::mutex> guard(*m_mutex);
    auto taken = m_store->lock(command);
    if (!taken) {
      return tl::unexpected(taken.error());
    }
    return std::unique_ptr<adapters::StoreLock>(std::make_unique<Lock>(std::move(*taken), m_mutex));
  }
  model::Result<std::string> unlock(const std::string& lock_id) override { return forward(&Store::unlock, lock_id); }
  model::Result<std::int64_t> serial() override { return forward(&Store::serial); }
  /// Forwarded, and the policy and the calls kept so tests can see how the
  /// store was used.
  model::Result<void> set_group_commit(std::optional<adapters::GroupCommit> policy) override {
    std::lock_guard<std::mutex> guard(*m_mutex);
    m_group_commit = policy;
    ++m_group_changes;
    return m_store->set_group_commit(policy);
  }
  model::Result<void> flush() override { return forward(&Store::flush); }
  bool read_only() const override { return m_store->read_only(); }
  bool created() const override { return m_store->created(); }

 private:
  using Store = adapters::SqliteStateStore;

  // The real lock, released under the store's mutex: releasing writes on
  // the connection the store's calls use.
  class Lock final : public adapters::StoreLock {
   public:
    Lock(std::unique_ptr<adapters::StoreLock> inner, std::shared_ptr<std::mutex> mutex)
        : m_inner(std::move(inner)), m_mutex(std::move(mutex)) {}
    ~Lock() override {
      std::lock_guard<std::mutex> guard(*m_mutex);
      m_inner.reset();
    }
    std::string took_over() const override { return m_inner->took_over(); }
    bool lost() const override { return m_inner->lost(); }

   private:
    std::unique_ptr<adapters::StoreLock> m_inner;
    std::shared_ptr<std::mutex> m_mutex;
  };

  static tl::unexpected<model::Error> write_failure() {
    return model::fail(model::Error::Kind::transient, "fake store: disk full");
  }

  // Forwards a call that injection leaves alone.
  template <typename Result, typename... Params, typename... Args>
  Result forward(Result (Store::*method)(Params...), Args&&... args) {
    std::lock_guard<std::mutex> guard(*m_mutex);
    return ((*m_store).*method)(std::forward<Args>(args)...);
  }

  // Forwards a write, or fails it while set_writes_fail is on.
  template <typename Result, typename... Params, typename... Args>
  Result write(Result (Store::*method)(Params...), Args&&... args) {
    std::lock_guard<std::mutex> guard(*m_mutex);
    if (m_writes_fail) {
      return write_failure();
    }
    return ((*m_store).*method)(std::forward<Args>(args)...);
  }

  // Shared with the locks handed out, which may outlive the store.
  std::shared_ptr<std::mutex> m_mutex = std::make_shared<std::mutex>();
  std::unique_ptr<adapters::SqliteStateStore> m_store;
  bool m_writes_fail = false;
  // The highest run id begun, by a test or for a journal entry.
  std::int64_t m_last_run = 0;
  std::optional<adapters::GroupCommit> m_group_commit;
  int m_group_changes = 0;
};

}  // namespace fakes
