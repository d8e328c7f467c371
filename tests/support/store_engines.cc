#include "tests/support/store_engines.h"

#include "tests/support/postgres_server.h"

namespace testing_support {

std::vector<StoreEngine> store_engines() {
  std::vector<StoreEngine> engines = {StoreEngine::sqlite};
  if (shared_postgres_server() != nullptr) {
    engines.push_back(StoreEngine::postgresql);
  }
  return engines;
}

std::string store_engine_name(StoreEngine engine) {
  switch (engine) {
    case StoreEngine::sqlite:
      return "sqlite";
    case StoreEngine::postgresql:
      return "postgresql";
  }
  return "unknown engine";
}

}  // namespace testing_support
