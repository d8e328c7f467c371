#pragma once
// The lifecycle role of the state store: the records that guard against
// destruction and mark what mxctl owns. Unlike the observation cache, most of
// them are the only trace of what they record (a purged room, a suspension
// Synapse's user list does not show, an account no longer declared), so their
// writes are durable before they return (see pass_lock.h on group commit).

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/result.h"

namespace adapters {

/// A hard-deleted room, kept so that deletion is audited, never silent.
struct Tombstone {
  std::string key;
  std::string room_id;
  /// ms since the epoch.
  std::int64_t archived_at = 0;
  std::int64_t deleted_at = 0;
};

/// Archive times, tombstones, managed and suspended accounts, protection.
class LifecycleStore {
 public:
  virtual ~LifecycleStore() = default;

  /// Archive times (ms since the epoch) by room key; empty when none.
  virtual model::Result<std::map<std::string, std::int64_t>> archive_records() = 0;
  /// Records that `key` (room `room_id`) was archived at `archived_at`; an
  /// existing record is kept (the first archive time counts).
  virtual model::Result<void> record_archive(const std::string& key, const std::string& room_id,
                                             std::int64_t archived_at) = 0;
  /// Forgets the archive record of `key` (it was restored).
  virtual model::Result<void> clear_archive(const std::string& key) = 0;
  /// Records a hard deletion and, in the same transaction, forgets the room's
  /// id, archive record, sent message, m.direct records and snapshot (which
  /// the observation cache holds: a deleted room must not linger there).
  virtual model::Result<void> record_tombstone(const Tombstone& tombstone) = 0;
  /// Every tombstone, oldest first.
  virtual model::Result<std::vector<Tombstone>> tombstones() = 0;

  /// Accounts mxctl manages: key → MXID.
  virtual model::Result<std::map<std::string, std::string>> managed_accounts() = 0;
  /// Records (or updates) a managed account; unchanged records write nothing.
  virtual model::Result<void> remember_account(const std::string& key, const std::string& user_id) = 0;

  /// Keys of managed accounts mxctl suspended (and has not reactivated).
  virtual model::Result<std::set<std::string>> suspended_accounts() = 0;
  /// Records that mxctl suspended (or reactivated) the managed account `key`.
  virtual model::Result<void> set_account_suspended(const std::string& key, bool suspended) = 0;

  /// Addresses ("room.<key>", "account.<key>") last declared `protect: true`.
  virtual model::Result<std::set<std::string>> protected_addresses() = 0;
  /// Records or clears the protection of `address`; unchanged writes nothing.
  virtual model::Result<void> set_protected(const std::string& address, bool is_protected) = 0;
};

}  // namespace adapters
