// The state store's record of application-service transaction ids, against
// every engine: a repeat is recognised on the store's own connection, on
// the listener's connection of its own, and after the store is opened
// again (a restart); only the newest ids are kept.

#include <catch2/catch.hpp>

#include <string>

#include "adapters/appservice_transactions.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"

namespace store_appservice_contract_test {

using testing_support::StoreUnderTest;

namespace {

// Recorded without error, and new (true) or a repeat (false).
bool recorded(const model::Result<bool>& result, bool fresh) {
  INFO((result ? std::string() : result.error().message));
  return result && *result == fresh;
}

}  // namespace

TEST_CASE("store contract: a txnId is new once, across connections and restarts", "[appservice][store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    {
      auto store = under_test.open();
      CHECK(recorded(store->record_transaction("1"), true));
      CHECK(recorded(store->record_transaction("1"), false));
      auto log = under_test.open_transaction_log();
      // The listener's connection sees what the store's recorded, and the other way round.
      CHECK(recorded(log->record_transaction("1"), false));
      CHECK(recorded(log->record_transaction("2"), true));
      CHECK(recorded(store->record_transaction("2"), false));
    }
    // A restart: a new process opens the store again.
    auto store = under_test.open();
    auto log = under_test.open_transaction_log();
    CHECK(recorded(log->record_transaction("1"), false));
    CHECK(recorded(log->record_transaction("2"), false));
    CHECK(recorded(log->record_transaction("3"), true));
    CHECK(recorded(store->record_transaction("3"), false));
  });
}

TEST_CASE("store contract: only the newest appservice transaction ids are kept", "[appservice][store]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto log = under_test.open_transaction_log();
    const int kept = adapters::AppserviceTransactions::k_kept;
    for (int i = 0; i <= kept; ++i) {
      REQUIRE(recorded(log->record_transaction(std::to_string(i)), true));
    }
    // The oldest was forgotten; the newest are still known.
    CHECK(recorded(log->record_transaction(std::to_string(kept)), false));
    CHECK(recorded(log->record_transaction("1"), false));
    CHECK(recorded(log->record_transaction("0"), true));
    // The store's own connection knows the same ids.
    CHECK(recorded(store->record_transaction(std::to_string(kept - 1)), false));
    CHECK(recorded(store->record_transaction("0"), false));
  });
}

}  // namespace store_appservice_contract_test
