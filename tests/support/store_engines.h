#pragma once
// The state store's engines a test runs against: SQLite always, PostgreSQL
// when a server can be started (tests/support/postgres_server.h). A store of
// either engine to test is tests/adapters/store_under_test.h, which needs
// the store library this one does not link.

#include <string>
#include <vector>

namespace testing_support {

enum class StoreEngine { sqlite, postgresql };

/// SQLite, and PostgreSQL when shared_postgres_server() gives a server
/// (which WARNs when PostgreSQL is not installed, and FAILs under CI).
std::vector<StoreEngine> store_engines();

/// "sqlite" or "postgresql", for test output.
std::string store_engine_name(StoreEngine engine);

}  // namespace testing_support
