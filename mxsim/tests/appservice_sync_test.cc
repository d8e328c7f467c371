// /sync and application services: Synapse refuses it to an appservice's
// sender (handlers/sync.py: "We no longer support AS users using /sync
// directly") with a bare 500, and serves the users it masquerades as.

#include <catch2/catch.hpp>

#include "mxsim/appservice.h"
#include "mxsim/tests/sim_fixture.h"

namespace appservice_sync_test {

using mxsim_test::enc;
using mxsim_test::Reply;
using mxsim_test::Sim;

namespace {

const char* k_registration = R"(
id: bridge
url: null
as_token: as-secret
hs_token: hs-secret
sender_localpart: bridgebot
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@bridge_.*:mxsim\\.test"
  aliases: []
  rooms: []
)";

// Synapse's answer to an exception it did not expect (http/server.py,
// return_json_error): status 500 and exactly this body.
void check_refused(const Reply& reply) {
  CHECK(reply.status == 500);
  CHECK(reply.body == nlohmann::json{{"errcode", "M_UNKNOWN"}, {"error", "Internal server error"}});
}

}  // namespace

TEST_CASE("mxsim: /sync is refused to an appservice's sender with Synapse's 500, and served to its users",
          "[mxsim][appservice]") {
  Sim sim;
  sim.hs().add_appservice(mxsim::parse_registration(k_registration));
  const std::string sync = "/_matrix/client/v3/sync?timeout=0";

  SECTION("the sender, with the as_token") { check_refused(sim.get(sync, "as-secret")); }
  SECTION("the sender named explicitly") {
    check_refused(sim.get(sync + "&user_id=" + enc("@bridgebot:mxsim.test"), "as-secret"));
  }
  SECTION("the sender with a token of its own: Synapse looks at the user, not the token") {
    check_refused(sim.get(sync, sim.hs().issue_token("@bridgebot:mxsim.test")));
  }
  SECTION("incremental syncs too") { check_refused(sim.get(sync + "&since=s0", "as-secret")); }
  SECTION("a user the appservice masquerades as") {
    REQUIRE(sim.post("/_matrix/client/v3/register", "as-secret",
                     {{"type", "m.login.application_service"}, {"username", "bridge_alice"}})
                .status == 200);
    Reply reply = sim.get(sync + "&user_id=" + enc("@bridge_alice:mxsim.test"), "as-secret");
    CHECK(reply.status == 200);
    CHECK(reply.body["next_batch"].is_string());
  }
  SECTION("anyone else") {
    Reply reply = sim.get(sync, sim.user("alice"));
    CHECK(reply.status == 200);
    CHECK(reply.body["next_batch"].is_string());
  }
}

}  // namespace appservice_sync_test
