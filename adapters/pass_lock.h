#pragma once
// The pass lock role of the state store: who may write it, and when the
// writes of every role become durable and visible to other connections.
//
// Group commit belongs here because it is a lock holder's tool: the executor
// turns it on for an apply, which writes a journal row per attempt and an
// audit row per operation. While it is on, the writes the homeserver can
// rebuild or that are only a record (record, append_audit, mark_room_written,
// set_room_id, mark_message_sent, mark_direct_set, forget_directs,
// record_archive, clear_archive) go into one transaction, committed when it is due, by
// flush(), before any other write, and before the lock is released or the
// store closed. Reads through the same store see them at once, other
// connections once committed. A process killed outright loses at most its last max_age of
// them; the next pass finds all of it on the homeserver again, and the
// journal rows that steer it (journaled_room_creations) are flushed by the
// executor before it sends any createRoom. Every other write (the lock,
// runs, accounts, tombstones, suspensions, protection, observations) is
// committed before it returns, with whatever is pending.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "model/result.h"

namespace adapters {

/// How group commit batches the per-operation writes of an apply.
struct GroupCommit {
  /// Commit once this many grouped writes are pending.
  int max_writes = 500;
  /// Commit once the first pending write is this old. Checked at every
  /// grouped write, so whoever turns grouping on must also call flush() at
  /// least this often while it lasts, for when nothing is being written.
  std::chrono::milliseconds max_age{100};
};

/// Held while a pass runs; released (lock row deleted) when destroyed. A
/// store's pending grouped writes are committed before the lock goes.
class StoreLock {
 public:
  virtual ~StoreLock() = default;
  /// What taking the lock displaced, for the operator: the holder whose
  /// lease ran out or who died, and when; empty when the lock was free.
  virtual std::string took_over() const { return {}; }
  /// True once renewing the lease found the lock taken over by another
  /// process (this one went silent for longer than the lease).
  virtual bool lost() const { return false; }
  /// Asks whoever keeps the lock whether this holder still has it, waiting
  /// a bounded time: false means stop writing now, and lost() says so from
  /// then on. The executor asks before each batch of writes; callable from
  /// any thread.
  virtual bool still_held() { return !lost(); }
};

/// The pass lock, group commit, the serial a saved plan checks, and what
/// opening found.
class PassLock {
 public:
  virtual ~PassLock() = default;

  /// Takes the pass lock for this process running `command`. `conflict`
  /// naming the holder, its lock id and since when while another holder's
  /// lease runs; a lock whose lease ran out, or whose process died on this
  /// host, is taken over (StoreLock::took_over()).
  virtual model::Result<std::unique_ptr<StoreLock>> lock(const std::string& command) = 0;
  /// Removes the pass lock if its id is `lock_id` (`mxctl unlock ID`);
  /// returns the lock removed, described. `not_found` when nothing holds
  /// it, `conflict` when another id does, or (a store whose lock is its
  /// holder's database session) while that session lives.
  virtual model::Result<std::string> unlock(const std::string& lock_id) = 0;

  /// Increases on every change to rooms, sent messages, accounts or the sync
  /// token; a saved plan records it so `apply --plan` can refuse a stale one.
  virtual model::Result<std::int64_t> serial() = 0;

  /// Turns group commit on with `policy`, or off with nullopt (the default:
  /// every write commits on its own); commits what is pending first. A
  /// failed commit's error says how many grouped writes were lost.
  virtual model::Result<void> set_group_commit(std::optional<GroupCommit> policy) = 0;
  /// Commits the pending grouped writes; nothing pending: does nothing.
  virtual model::Result<void> flush() = 0;

  /// The store cannot be written (a reader opened a read-only file); every
  /// write fails.
  virtual bool read_only() const { return false; }
  /// Opening created the store: it holds nothing of any earlier pass.
  virtual bool created() const { return false; }
};

}  // namespace adapters
