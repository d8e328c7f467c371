#include <memory>
#include <string>

#include "adapters/state_store.h"
#include "adapters/store/postgres_state_store.h"

namespace adapters {

bool is_postgres_store(const std::string& where) {
  return where.starts_with("postgresql://") || where.starts_with("postgres://");
}

model::Result<std::unique_ptr<StateStore>> open_state_store(const std::string& where, StoreAccess access) {
  if (!is_postgres_store(where)) {
    return open_sqlite_store(where, access);
  }
  auto store = PostgresStateStore::open(where);
  if (!store) {
    return tl::unexpected(store.error());
  }
  return std::unique_ptr<StateStore>(std::move(*store));
}

}  // namespace adapters
