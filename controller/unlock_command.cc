// `mxctl unlock ID`: the way out of a lock whose holder an operator knows
// is gone but whose lease has not run out yet (or one they cannot wait
// for). Like terraform's force-unlock, it takes the lock's id, so only the
// lock the operator looked at is removed. On a PostgreSQL store only the
// row of a holder whose database session ended can be removed.

#include <filesystem>
#include <iostream>

#include "adapters/state_store.h"
#include "controller/commands.h"
#include "model/printable.h"

namespace controller {

int run_unlock(const UnlockOptions& options, Console& console) {
  // Opening would make a new store at a mistyped path and find it unlocked.
  std::error_code error;
  if (!adapters::is_postgres_store(options.state_path) && !std::filesystem::exists(options.state_path, error)) {
    console.err << "Error: there is no state store at " << model::printable(options.state_path)
                << " (give --state the store the locked pass uses)\n";
    return k_exit_error;
  }
  auto store = adapters::open_state_store(options.state_path);
  if (!store) {
    console.err << "Error: " << model::printable(store.error().message) << "\n";
    return k_exit_error;
  }
  auto removed = (*store)->unlock(options.lock_id);
  if (!removed) {
    console.err << "Error: " << model::printable(removed.error().message) << "\n";
    return k_exit_error;
  }
  console.out << "Removed the pass lock " << model::printable(options.lock_id) << " ("
              << model::printable(*removed) << "); the removal is recorded in the audit log.\n"
              << "If that pass is in fact still running, it keeps writing until it ends: stop it first.\n";
  return k_exit_ok;
}

}  // namespace controller
