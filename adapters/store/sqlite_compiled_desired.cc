// The compiled desired state SqliteStateStore keeps (schema v9): one row,
// replaced whenever a pass compiles inputs it did not have.

#include "adapters/store/sqlite_db.h"
#include "adapters/store/sqlite_state_store.h"

namespace adapters {

model::Result<std::optional<CompiledDesired>> SqliteStateStore::compiled_desired() {
  const char* doing = "read the compiled desired state";
  auto stmt = m_db->cached("SELECT digest, state FROM compiled_desired WHERE id = 1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row) {
    return std::optional<CompiledDesired>();
  }
  return std::optional<CompiledDesired>(CompiledDesired{stmt->text(0), stmt->blob(1)});
}

model::Result<std::optional<std::string>> SqliteStateStore::compiled_desired_digest() {
  const char* doing = "read the compiled desired state's digest";
  // The digest comes before the state in the row: the state's overflow
  // pages are not read.
  auto stmt = m_db->cached("SELECT digest FROM compiled_desired WHERE id = 1", doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  auto row = stmt->step(doing);
  if (!row) {
    return tl::unexpected(row.error());
  }
  if (!*row) {
    return std::optional<std::string>();
  }
  return std::optional<std::string>(stmt->text(0));
}

model::Result<void> SqliteStateStore::keep_compiled_desired(const CompiledDesired& compiled) {
  if (auto flushed = flush(); !flushed) {
    return flushed;
  }
  return sqlite::run_statement(*m_db,
                               "INSERT INTO compiled_desired (id, digest, state) VALUES (1, ?1, ?2) "
                               "ON CONFLICT (id) DO UPDATE SET digest = excluded.digest, state = excluded.state",
                               "keep the compiled desired state", [&](sqlite::Statement& stmt) {
                                 stmt.bind_text(1, compiled.digest).bind_blob(2, compiled.state);
                               });
}

}  // namespace adapters
