// Access tokens, login, registration and whoami over HTTP.

#include <catch2/catch.hpp>

#include "mxsim/tests/sim_fixture.h"

namespace client_auth_test {

using mxsim_test::Reply;
using mxsim_test::Sim;

TEST_CASE("mxsim: versions needs no token", "[mxsim]") {
  Sim sim;
  Reply reply = sim.get("/_matrix/client/versions");
  REQUIRE(reply.status == 200);
  CHECK(reply.body["versions"].is_array());
}

TEST_CASE("mxsim: whoami reports the token's user and device", "[mxsim]") {
  Sim sim;
  std::string token = sim.user("alice");
  Reply reply = sim.get("/_matrix/client/v3/account/whoami", token);
  REQUIRE(reply.status == 200);
  CHECK(reply.body["user_id"] == "@alice:mxsim.test");
  CHECK(reply.body["is_guest"] == false);
  CHECK(reply.body.contains("device_id"));

  SECTION("the access_token query parameter works too") {
    Reply by_query = sim.get("/_matrix/client/v3/account/whoami?access_token=" + token);
    CHECK(by_query.status == 200);
    CHECK(by_query.body["user_id"] == "@alice:mxsim.test");
  }
}

TEST_CASE("mxsim: a missing token is 401 M_MISSING_TOKEN and a bad one 401 M_UNKNOWN_TOKEN", "[mxsim]") {
  Sim sim;
  Reply missing = sim.get("/_matrix/client/v3/account/whoami");
  CHECK(missing.status == 401);
  CHECK(missing.errcode() == "M_MISSING_TOKEN");

  Reply unknown = sim.get("/_matrix/client/v3/account/whoami", "nope");
  CHECK(unknown.status == 401);
  CHECK(unknown.errcode() == "M_UNKNOWN_TOKEN");
  CHECK(unknown.body["soft_logout"] == false);
}

TEST_CASE("mxsim: password login mints a working token", "[mxsim]") {
  Sim sim;
  sim.hs().add_user("bob", "secret", false);

  SECTION("with an m.id.user identifier") {
    Reply login = sim.post("/_matrix/client/v3/login", "",
                           {{"type", "m.login.password"},
                            {"identifier", {{"type", "m.id.user"}, {"user", "bob"}}},
                            {"password", "secret"}});
    REQUIRE(login.status == 200);
    CHECK(login.body["user_id"] == "@bob:mxsim.test");
    Reply who = sim.get("/_matrix/client/v3/account/whoami", login.body["access_token"]);
    CHECK(who.body["user_id"] == "@bob:mxsim.test");
    CHECK(who.body["device_id"] == login.body["device_id"]);
  }
  SECTION("with a full user id") {
    Reply login = sim.post("/_matrix/client/v3/login", "",
                           {{"type", "m.login.password"},
                            {"identifier", {{"type", "m.id.user"}, {"user", "@bob:mxsim.test"}}},
                            {"password", "secret"}});
    CHECK(login.status == 200);
  }
  SECTION("a wrong password is 403 Invalid username or password") {
    Reply login = sim.post("/_matrix/client/v3/login", "",
                           {{"type", "m.login.password"},
                            {"identifier", {{"type", "m.id.user"}, {"user", "bob"}}},
                            {"password", "wrong"}});
    CHECK(login.status == 403);
    CHECK(login.errcode() == "M_FORBIDDEN");
    CHECK(login.error() == "Invalid username or password");
  }
  SECTION("an unknown user is refused the same way") {
    Reply login = sim.post("/_matrix/client/v3/login", "",
                           {{"type", "m.login.password"},
                            {"identifier", {{"type", "m.id.user"}, {"user", "nobody"}}},
                            {"password", "x"}});
    CHECK(login.status == 403);
    CHECK(login.errcode() == "M_FORBIDDEN");
  }
}

TEST_CASE("mxsim: logout invalidates the token", "[mxsim]") {
  Sim sim;
  std::string token = sim.user("carol");
  REQUIRE(sim.post("/_matrix/client/v3/logout", token).status == 200);
  CHECK(sim.get("/_matrix/client/v3/account/whoami", token).errcode() == "M_UNKNOWN_TOKEN");
}

TEST_CASE("mxsim: open registration is disabled", "[mxsim]") {
  Sim sim;
  Reply reply = sim.post("/_matrix/client/v3/register", "", {{"username", "eve"}, {"password", "pw"}});
  CHECK(reply.status == 403);
  CHECK(reply.errcode() == "M_FORBIDDEN");
  CHECK(reply.error() == "Registration has been disabled");
}

TEST_CASE("mxsim: add_user validates localparts", "[mxsim]") {
  Sim sim;
  CHECK_THROWS_AS(sim.hs().add_user("Bad User", "pw", false), mxsim::MatrixError);
  sim.hs().add_user("dave", "pw", false);
  try {
    sim.hs().add_user("dave", "pw", false);
    FAIL("expected M_USER_IN_USE");
  } catch (const mxsim::MatrixError& error) {
    CHECK(error.errcode() == "M_USER_IN_USE");
  }
}

TEST_CASE("mxsim: unknown endpoints are 404 M_UNRECOGNIZED", "[mxsim]") {
  Sim sim;
  std::string token = sim.user("alice");
  Reply reply = sim.get("/_matrix/client/v3/no/such/thing", token);
  CHECK(reply.status == 404);
  CHECK(reply.errcode() == "M_UNRECOGNIZED");
  Reply wrong_method = sim.raw("DELETE", "/_matrix/client/v3/account/whoami", token, "");
  CHECK(wrong_method.status == 405);
  CHECK(wrong_method.errcode() == "M_UNRECOGNIZED");
}

TEST_CASE("mxsim: bad request bodies are M_NOT_JSON or M_BAD_JSON", "[mxsim]") {
  Sim sim;
  std::string token = sim.user("alice");
  Reply not_json = sim.raw("POST", "/_matrix/client/v3/createRoom", token, "{nope");
  CHECK(not_json.status == 400);
  CHECK(not_json.errcode() == "M_NOT_JSON");
  Reply empty = sim.raw("POST", "/_matrix/client/v3/createRoom", token, "");
  CHECK(empty.status == 400);
  CHECK(empty.errcode() == "M_NOT_JSON");
  Reply not_object = sim.raw("POST", "/_matrix/client/v3/createRoom", token, "[1,2]");
  CHECK(not_object.status == 400);
  CHECK(not_object.errcode() == "M_BAD_JSON");
}

}  // namespace client_auth_test
