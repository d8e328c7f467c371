// A coordination room as its two people meet it, against mxsim with the
// real mxctl binary: the context message is the room's first message and
// goes out before the room is encrypted, nobody is invited before that, and
// the invites carry is_direct. A pass stopped half-way is completed in the
// same order.

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tests/e2e/fixture.h"
#include "tests/support/http_json.h"

namespace dm_opening_test {

namespace {

using e2e::Fixture;

// The room's events as the bot reads them, oldest first.
std::vector<nlohmann::json> timeline(Fixture& fx, const std::string& key) {
  const std::string path = "/_matrix/client/v3/rooms/" + testing_support::url_encode(e2e::stored_room_id(fx, key)) +
                           "/messages?dir=f&limit=1000";
  mxsim::ApiResponse page = fx.as_bot("GET", path, nlohmann::json::object());
  REQUIRE(page.status == 200);
  return page.body["chunk"].get<std::vector<nlohmann::json>>();
}

// Positions of the first event matching `match`, or -1.
template <typename Match>
long first(const std::vector<nlohmann::json>& events, Match match) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (match(events[i])) {
      return static_cast<long>(i);
    }
  }
  return -1;
}

bool is_invite(const nlohmann::json& event) {
  return event["type"] == "m.room.member" && event["content"].value("membership", "") == "invite";
}

// The checks every coordination room must pass once made.
void check_opening(Fixture& fx, const std::string& key, const std::string& message_start) {
  INFO(key);
  const std::vector<nlohmann::json> events = timeline(fx, key);
  const long message = first(events, [](const nlohmann::json& e) { return e["type"] == "m.room.message"; });
  const long encryption = first(events, [](const nlohmann::json& e) { return e["type"] == "m.room.encryption"; });
  const long invite = first(events, is_invite);
  REQUIRE(message >= 0);
  REQUIRE(encryption >= 0);
  REQUIRE(invite >= 0);
  CHECK(events[message]["content"]["body"].get<std::string>().rfind(message_start, 0) == 0);
  CHECK(message < encryption);
  CHECK(encryption < invite);
  int messages = 0;
  int invites = 0;
  for (const nlohmann::json& event : events) {
    messages += event["type"] == "m.room.message" ? 1 : 0;
    if (is_invite(event)) {
      ++invites;
      CHECK(event["content"]["is_direct"] == true);
    }
  }
  CHECK(messages == 1);
  CHECK(invites == 2);
}

}  // namespace

TEST_CASE("e2e: a coordination room opens with its message, then encryption, then invites marked direct",
          "[e2e][dm_opening]") {
  Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);
  check_opening(fx, "dm/request-8841", "Request accepted! Coordinate delivery for:");
  check_opening(fx, "dm/request-9120", "Request accepted! Coordinate pickup");
}

TEST_CASE("e2e: a coordination room left unencrypted by a failed pass gets no invite until it is encrypted",
          "[e2e][dm_opening]") {
  Fixture fx;
  mxsim::FaultRule refuse;
  refuse.method = "PUT";
  refuse.path_regex = "/state/m\\.room\\.encryption";
  refuse.times = -1;
  refuse.status = 403;
  refuse.errcode = "M_FORBIDDEN";
  refuse.error = "Injected: encryption refused";
  const std::uint64_t rule = fx.homeserver().faults().add(refuse);
  auto failed = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(failed.out << failed.err);
  REQUIRE(failed.exit_code != 0);
  {
    const std::vector<nlohmann::json> events = timeline(fx, "dm/request-8841");
    CHECK(first(events, [](const nlohmann::json& e) { return e["type"] == "m.room.message"; }) >= 0);
    CHECK(first(events, [](const nlohmann::json& e) { return e["type"] == "m.room.encryption"; }) == -1);
    CHECK(first(events, is_invite) == -1);
  }
  // The plan of the next pass names the missing steps in the order they run.
  fx.homeserver().faults().remove(rule);
  auto plan = fx.mxctl({"plan", fx.manifests()});
  INFO(plan.out << plan.err);
  const std::size_t encrypted = plan.out.find("encrypted");
  const std::size_t invited = plan.out.find("members[\"@bob:");
  CHECK(encrypted != std::string::npos);
  CHECK(invited != std::string::npos);
  CHECK(encrypted < invited);
  auto completed = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(completed.out << completed.err);
  REQUIRE(completed.exit_code == 0);
  check_opening(fx, "dm/request-8841", "Request accepted! Coordinate delivery for:");
  auto again = fx.mxctl({"plan", fx.manifests(), "--detailed-exitcode"});
  INFO(again.out << again.err);
  CHECK(again.exit_code == 0);
}

}  // namespace dm_opening_test
