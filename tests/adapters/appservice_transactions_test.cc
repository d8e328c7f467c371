// The state store's record of application-service transaction ids: a
// repeat is recognised on the store's own connection, on the listener's
// connection of its own, and after the file is opened again (a restart).

#include <catch2/catch.hpp>

#include "adapters/appservice_transactions.h"
#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace appservice_transactions_test {

using adapters::SqliteStateStore;
using testing_support::TempDir;

namespace {

// Recorded without error, and new (true) or a repeat (false).
bool recorded(const model::Result<bool>& result, bool fresh) { return result && *result == fresh; }

}  // namespace

TEST_CASE("appservice transactions: a txnId is new once, across connections and restarts", "[appservice][store]") {
  TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  {
    auto store = SqliteStateStore::open(path);
    REQUIRE(store);
    CHECK(recorded((*store)->record_transaction("1"), true));
    CHECK(recorded((*store)->record_transaction("1"), false));
    auto log = adapters::open_transaction_log(path);
    REQUIRE(log);
    // The listener's connection sees what the store's recorded, and the other way round.
    CHECK(recorded((*log)->record_transaction("1"), false));
    CHECK(recorded((*log)->record_transaction("2"), true));
    CHECK(recorded((*store)->record_transaction("2"), false));
  }
  // A restart: a new process opens the file again.
  auto store = SqliteStateStore::open(path);
  REQUIRE(store);
  auto log = adapters::open_transaction_log(path);
  REQUIRE(log);
  CHECK(recorded((*log)->record_transaction("1"), false));
  CHECK(recorded((*log)->record_transaction("2"), false));
  CHECK(recorded((*log)->record_transaction("3"), true));
}

TEST_CASE("appservice transactions: only the newest ids are kept", "[appservice][store]") {
  TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  auto store = SqliteStateStore::open(path);
  REQUIRE(store);
  auto log = adapters::open_transaction_log(path);
  REQUIRE(log);
  const int kept = adapters::AppserviceTransactions::k_kept;
  for (int i = 0; i <= kept; ++i) {
    REQUIRE(recorded((*log)->record_transaction(std::to_string(i)), true));
  }
  // The oldest was forgotten; the newest are still known.
  CHECK(recorded((*log)->record_transaction(std::to_string(kept)), false));
  CHECK(recorded((*log)->record_transaction("1"), false));
  CHECK(recorded((*log)->record_transaction("0"), true));
}

TEST_CASE("appservice transactions: a store in memory gets a record in memory", "[appservice][store]") {
  auto log = adapters::open_transaction_log(":memory:");
  REQUIRE(log);
  CHECK(recorded((*log)->record_transaction("a"), true));
  CHECK(recorded((*log)->record_transaction("a"), false));
}

}  // namespace appservice_transactions_test
