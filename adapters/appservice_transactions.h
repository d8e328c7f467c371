#pragma once
// The state store's record of the application-service transactions the
// homeserver pushed (`PUT /_matrix/app/v1/transactions/{txnId}`): the spec
// has a homeserver repeat a transaction whose answer it lost, with the same
// id, and the service do nothing the second time. Kept in the store so that
// a repeat after a restart of mxctl is recognised too.

#include <memory>
#include <string>

#include "model/result.h"

namespace adapters {

/// Transaction ids seen, oldest forgotten first.
class AppserviceTransactions {
 public:
  virtual ~AppserviceTransactions() = default;

  /// Records `txn_id`, durably; true when it was new, false when it was
  /// recorded before (the homeserver repeats it). Only the most recent
  /// k_kept ids are kept: a homeserver repeats a transaction soon, or never.
  virtual model::Result<bool> record_transaction(const std::string& txn_id) = 0;

  /// How many ids are remembered.
  static constexpr int k_kept = 10000;
};

/// A record of its own on the store at `path` (a SQLite file, or a
/// postgresql:// URI), with a connection of its own, for the
/// application-service listener's threads (the store's connection belongs
/// to the loop's thread); thread-safe. ":memory:" (a test's store) gives a
/// record in memory. The store must have been opened at `path` first (it
/// creates and migrates the schema).
model::Result<std::unique_ptr<AppserviceTransactions>> open_transaction_log(const std::string& path);

}  // namespace adapters
