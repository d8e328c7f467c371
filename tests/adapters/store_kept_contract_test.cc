// What the state store keeps for the next pass, against every engine: the
// compiled desired state and the converged verdict, one of each, replaced
// whole and kept across reopening.

#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "adapters/compiled_desired_cache.h"
#include "adapters/converged_verdicts.h"
#include "adapters/state_store.h"
#include "tests/adapters/store_under_test.h"

namespace store_kept_contract_test {

using testing_support::StoreUnderTest;

TEST_CASE("store contract: the store keeps the last compiled desired state, bytes exact, across reopening, "
          "and says its digest alone",
          "[store][desired_cache]") {
  // Binary: NULs and bytes that are not UTF-8 must come back as they went.
  const std::string bytes("\0\xff\x80state\0", 9);
  testing_support::for_each_store_engine([&bytes](StoreUnderTest& under_test) {
    auto store = under_test.open();
    auto none = store->compiled_desired();
    REQUIRE(none);
    CHECK_FALSE(*none);
    auto no_digest = store->compiled_desired_digest();
    REQUIRE(no_digest);
    CHECK_FALSE(*no_digest);
    REQUIRE(store->keep_compiled_desired({"digest one", "first"}));
    REQUIRE(store->keep_compiled_desired({"digest two", bytes}));
    under_test.reopen(store);
    auto kept = store->compiled_desired();
    REQUIRE(kept);
    REQUIRE(*kept);
    CHECK((*kept)->digest == "digest two");
    CHECK((*kept)->state == bytes);
    // The digest alone, as a pass asks before deciding to parse anything.
    auto digest = store->compiled_desired_digest();
    REQUIRE(digest);
    CHECK(*digest == std::optional<std::string>("digest two"));
  });
}

TEST_CASE("store contract: the converged verdict is kept whole, replaced, and kept across reopening",
          "[store][converged]") {
  testing_support::for_each_store_engine([](StoreUnderTest& under_test) {
    using Verdict = std::optional<adapters::ConvergedVerdict>;
    auto verdict_of = [](adapters::StateStore& store) {
      auto kept = store.converged_verdict();
      INFO((kept ? std::string() : kept.error().message));
      REQUIRE(kept);
      return *kept;
    };
    adapters::ConvergedVerdict verdict;
    verdict.key = "k1";
    verdict.valid_until_ms = 9'000'000'000'000;
    verdict.replay.paths = {"/_synapse/admin/v2/users?from=0", "/_synapse/admin/v2/users?from=5000"};
    verdict.replay.digest = "d1";
    auto store = under_test.open();
    CHECK(verdict_of(*store) == Verdict());
    REQUIRE(store->keep_converged_verdict(verdict));
    CHECK(verdict_of(*store) == Verdict(verdict));
    under_test.reopen(store);
    CHECK(verdict_of(*store) == Verdict(verdict));
    verdict.replay.paths.clear();
    verdict.key = "k2";
    verdict.valid_until_ms = 0;
    verdict.replay.digest = "";
    REQUIRE(store->keep_converged_verdict(verdict));
    CHECK(verdict_of(*store) == Verdict(verdict));
    under_test.reopen(store);
    CHECK(verdict_of(*store) == Verdict(verdict));
  });
}

}  // namespace store_kept_contract_test
