#pragma once
// The controller's memory between passes, in an embedded SQLite file
// (default mxctl.db) or, for replicas on several hosts, a PostgreSQL
// database. It is a cache and an audit trail, never the source of truth:
// every pass re-observes, and a lost store is rebuilt from aliases and
// markers without creating duplicates.
//
// StateStore is the seven roles together, for whoever opens the store (the
// command line) and passes it on. Code that needs only some roles can take
// just those, so that a test can hand it a fake of a page.

#include <memory>
#include <string>

#include "adapters/appservice_transactions.h"
#include "adapters/compiled_desired_cache.h"
#include "adapters/converged_verdicts.h"
#include "adapters/lifecycle_store.h"
#include "adapters/observation_cache.h"
#include "adapters/pass_lock.h"
#include "adapters/pass_log.h"
#include "model/result.h"

namespace adapters {

/// The controller's persistent state: every role one store implements.
class StateStore : public ObservationCache,
                   public PassLog,
                   public LifecycleStore,
                   public PassLock,
                   public AppserviceTransactions,
                   public CompiledDesiredCache,
                   public ConvergedVerdicts {
 public:
  ~StateStore() override = default;
};

/// Who opens a store: a pass that writes, or a reader (plan, audit) that
/// can do without writing.
enum class StoreAccess { read_write, read_only_if_needed };

/// Opens (creating and migrating as needed) the SQLite store at `path`
/// (":memory:" for tests). Schema versioned with PRAGMA user_version, WAL
/// mode. With read_only_if_needed a file that cannot be written is opened
/// read-only, and one that cannot be created is an empty store in memory
/// (read_only() says so either way). Refuses a damaged file, or one that is
/// not an mxctl store, with the way out in the message.
model::Result<std::unique_ptr<StateStore>> open_sqlite_store(const std::string& path,
                                                             StoreAccess access = StoreAccess::read_write);

/// Whether `where` names a PostgreSQL store (a postgresql:// or
/// postgres:// URI) rather than a SQLite file.
bool is_postgres_store(const std::string& where);

/// Opens the store `where` names: a postgresql:// or postgres:// URI opens
/// (creating and migrating as needed) the PostgreSQL store in that
/// database, anything else the SQLite file at that path (see
/// open_sqlite_store). A PostgreSQL store is always opened to write.
model::Result<std::unique_ptr<StateStore>> open_state_store(const std::string& where,
                                                            StoreAccess access = StoreAccess::read_write);

}  // namespace adapters
