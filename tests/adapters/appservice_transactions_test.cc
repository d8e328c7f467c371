// The record of application-service transaction ids for a test's store in
// memory, which no second connection can share. The record of a store
// proper (across connections and restarts, only the newest kept), on both
// engines, is store_appservice_contract_test.cc.

#include <catch2/catch.hpp>

#include "adapters/appservice_transactions.h"

namespace appservice_transactions_test {

namespace {

// Recorded without error, and new (true) or a repeat (false).
bool recorded(const model::Result<bool>& result, bool fresh) { return result && *result == fresh; }

}  // namespace

TEST_CASE("appservice transactions: a store in memory gets a record in memory", "[appservice][store]") {
  auto log = adapters::open_transaction_log(":memory:");
  REQUIRE(log);
  CHECK(recorded((*log)->record_transaction("a"), true));
  CHECK(recorded((*log)->record_transaction("a"), false));
}

}  // namespace appservice_transactions_test
