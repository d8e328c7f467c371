// The converged verdict over HTTP against mxsim, with the real mxctl binary:
// a pass over the same inputs on a server that shows nothing new is
// answered without a plan, and every kind of change — on the server, in a
// room or an account, in the manifests, in the store, or the lifecycle's
// clock reaching a grace period's end — makes the pass plan in full.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "controller/clock.h"
#include "tests/e2e/fixture.h"
#include "tests/support/http_json.h"

namespace converged_verdict_test {

namespace {

using e2e::Fixture;

const std::string k_verdict_note = "(the converged verdict)";

struct Pass {
  std::string out;
  std::string err;
  /// The converged verdict answered it.
  bool unchanged = false;
  /// GET /sync requests the server saw.
  std::size_t syncs = 0;
};

Pass reconcile(Fixture& fx, std::vector<std::string> extra = {}) {
  const std::uint64_t before = fx.homeserver().journal().last_seq();
  std::vector<std::string> args = {"reconcile", fx.manifests(), "--stats"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto result = fx.mxctl(args);
  INFO(result.out << result.err);
  REQUIRE(result.exit_code == 0);
  Pass pass{result.out, result.err, result.err.find(k_verdict_note) != std::string::npos, 0};
  for (const mxsim::JournalEntry& entry : fx.homeserver().journal().entries(before)) {
    pass.syncs += entry.method == "GET" && entry.route.find("/sync") != std::string::npos;
  }
  return pass;
}

// Applies the example and reconciles until a pass is answered by the verdict.
void converge(Fixture& fx, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"apply", fx.manifests(), "--yes"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto applied = fx.mxctl(args);
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  // After an apply the rooms written are read again; the pass after that
  // finds nothing to do and keeps its verdict, which answers the next.
  CHECK_FALSE(reconcile(fx, extra).unchanged);
  CHECK_FALSE(reconcile(fx, extra).unchanged);
  Pass judged = reconcile(fx, extra);
  CHECK(judged.unchanged);
  CHECK(judged.out.find("No changes.") != std::string::npos);
  CHECK(judged.syncs == 1);
}

}  // namespace

TEST_CASE("e2e: a converged pass is answered by its verdict until anything it read changes",
          "[e2e][converged_verdict]") {
  Fixture fx;
  converge(fx);
  CHECK(reconcile(fx).unchanged);

  SECTION("a room changed on the server is repaired, with one /sync") {
    const std::string general = e2e::stored_room_id(fx, "community/riverside/general");
    const std::string path =
        "/_matrix/client/v3/rooms/" + testing_support::url_encode(general) + "/state/m.room.topic/";
    REQUIRE(fx.as_bot("PUT", path, {{"topic", "changed by hand"}}).status == 200);
    Pass repaired = reconcile(fx);
    CHECK_FALSE(repaired.unchanged);
    CHECK(repaired.out.find("1 changed") != std::string::npos);
    CHECK(repaired.syncs == 1);
  }
  SECTION("an account changed on the server is repaired") {
    REQUIRE(fx.as_bot("PUT", "/_synapse/admin/v2/users/" + testing_support::url_encode("@alice:mxsim.test"),
                      {{"displayname", "Someone Else"}})
                .status == 200);
    Pass repaired = reconcile(fx);
    CHECK_FALSE(repaired.unchanged);
    CHECK(repaired.out.find("1 changed") != std::string::npos);
  }
  SECTION("a changed manifest is planned") {
    fx.edit("users.yaml", "displayName: Alice Moreau", "displayName: Alice M.");
    Pass changed = reconcile(fx);
    CHECK_FALSE(changed.unchanged);
    CHECK(changed.out.find("1 changed") != std::string::npos);
  }
  SECTION("a changed store record is planned in full") {
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    REQUIRE((*store)->set_protected("room.community/riverside", true));
    store->reset();
    CHECK_FALSE(reconcile(fx).unchanged);
  }
  SECTION("a verdict kept under another token's key is not taken") {
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    auto kept = (*store)->converged_verdict();
    REQUIRE(kept);
    REQUIRE(*kept);
    adapters::ConvergedVerdict forged = **kept;
    forged.key[0] = forged.key[0] == '0' ? '1' : '0';
    REQUIRE((*store)->keep_converged_verdict(forged));
    store->reset();
    CHECK_FALSE(reconcile(fx).unchanged);
  }
}

TEST_CASE("e2e: the converged verdict ends with an archived room's grace period", "[e2e][converged_verdict]") {
  Fixture fx;
  const std::string day0 = "2026-01-01";
  converge(fx, {"--now", day0});
  fx.edit("communities.yaml", "  name: Harbor Tool Library\n", "  name: Harbor Tool Library\n  archived: true\n");
  // Harbor archived: its rooms are kept for the grace period.
  auto archived = fx.mxctl({"apply", fx.manifests(), "--yes", "--now", day0});
  INFO(archived.out << archived.err);
  REQUIRE(archived.exit_code == 0);
  CHECK_FALSE(reconcile(fx, {"--now", day0}).unchanged);
  CHECK_FALSE(reconcile(fx, {"--now", day0}).unchanged);
  CHECK(reconcile(fx, {"--now", "2026-03-01T23:59:59Z"}).unchanged);
  // Day 60: the grace period is over; the verdict does not stand for it.
  Pass deleted = reconcile(fx, {"--now", "2026-03-02"});
  CHECK_FALSE(deleted.unchanged);
  CHECK(deleted.out.find("destroyed") != std::string::npos);
  CHECK(deleted.out.find("0 destroyed") == std::string::npos);
}

}  // namespace converged_verdict_test
