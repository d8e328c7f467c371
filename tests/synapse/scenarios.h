#pragma once
// Steps that more than one real-server test takes, in either provisioning
// mode: drift made by hand and its repair, and a council's archive.

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace synapse_e2e {

/// True when one line of `text` holds every one of `parts`.
inline bool line_with(const std::string& text, const std::vector<std::string>& parts) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    bool all = true;
    for (const std::string& part : parts) {
      all = all && line.find(part) != std::string::npos;
    }
    if (all) {
      return true;
    }
  }
  return false;
}

/// How often `what` occurs in `text`.
inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) {
    ++n;
  }
  return n;
}

/// Sends one state event as `token`; REQUIREs that the server took it.
inline void put_state(const Fixture& fx, const std::string& token, const std::string& room_id,
                      const std::string& type, const std::string& state_key, const nlohmann::json& content) {
  using testing_support::url_encode;
  auto sent = fx.server().call("PUT",
                               "/_matrix/client/v3/rooms/" + url_encode(room_id) + "/state/" + url_encode(type) + "/" +
                                   url_encode(state_key),
                               token, content);
  INFO("PUT " << type << " in " << room_id << ": " << sent.describe());
  REQUIRE(sent.ok());
}

/// Drift made by hand in the converged example, as the bot through the
/// client API: grace's level in riverside's general room 50 → 10, frank
/// kicked from the disputes council, the general room renamed, and the
/// riverside space's link to the council emptied.
struct Drift {
  std::string grace, frank, general, space, council;
};

inline Drift make_drift(const Fixture& fx) {
  Drift drift{fx.user_id("grace"), fx.user_id("frank"), fx.room_id("community/riverside/general"),
              fx.room_id("community/riverside"), fx.room_id("council/disputes")};
  const std::string& token = fx.bot_token();  // the one account with power in every room
  auto levels = state_content(fx.server().room_state(drift.general), "m.room.power_levels");
  REQUIRE(levels["users"].value(drift.grace, 0) == 50);
  REQUIRE(levels.value("historical", 0) == 100);
  levels["users"][drift.grace] = 10;
  put_state(fx, token, drift.general, "m.room.power_levels", "", levels);
  auto kicked = fx.server().call("POST", "/_matrix/client/v3/rooms/" + testing_support::url_encode(drift.council) +
                                             "/kick",
                                 token, {{"user_id", drift.frank}, {"reason", "drift by hand"}});
  INFO(kicked.describe());
  REQUIRE(kicked.ok());
  put_state(fx, token, drift.general, "m.room.name", "", {{"name", "Renamed by hand"}});
  put_state(fx, token, drift.space, "m.space.child", drift.council, nlohmann::json::object());
  return drift;
}

/// The plan text shows each of the drift's four changes.
inline void check_drift_planned(const Drift& drift, const std::string& plan) {
  INFO(plan);
  CHECK(line_with(plan, {"power_levels.users[\"" + drift.grace + "\"]", "10 -> 50"}));
  CHECK(line_with(plan, {"name", "\"Renamed by hand\" -> \"Riverside Commons General\""}));
  CHECK(line_with(plan, {"+ members[\"" + drift.frank + "\"]", "invited"}));
  CHECK(line_with(plan, {"+ children[\"council/disputes\"]", "linked"}));
}

/// The server shows each drift repaired, Synapse's "historical" level kept
/// in the repaired power levels, and the whole example converged.
inline void check_drift_repaired(const Fixture& fx, const Drift& drift) {
  const auto general = fx.server().room_state(drift.general);
  const auto levels = state_content(general, "m.room.power_levels");
  CHECK(levels.value("users", nlohmann::json::object()).value(drift.grace, 0) == 50);
  // Keys mxctl does not manage are the server's: a repair must keep them.
  CHECK(levels.value("historical", nlohmann::json()) == 100);
  CHECK(state_content(general, "m.room.name").value("name", "") == "Riverside Commons General");
  CHECK(memberships(fx.server().room_state(drift.council))[drift.frank] == "invite");
  CHECK_FALSE(state_content(fx.server().room_state(drift.space), "m.space.child", drift.council)
                  .value("via", nlohmann::json::array())
                  .empty());
  auto problems = convergence_problems(fx, fx.example());
  INFO(lines(problems));
  CHECK(problems.empty());
}

/// The two rooms of the stewards council (harbor's), which the lifecycle
/// tests archive by taking the council out of the manifests.
inline const std::vector<std::string> k_stewards = {"council/stewards", "council/stewards/discussion"};

/// Each room of `keys` shows the archive: " (archived)" added to its name,
/// the topic giving both dates, join rule invite, posting closed below 100.
inline void check_archived(const Fixture& fx, const std::vector<std::string>& keys, const std::string& archived_on,
                           const std::string& deleted_on) {
  for (const std::string& key : keys) {
    INFO(key);
    const auto state = fx.room_state(key);
    const std::string name = state_content(state, "m.room.name").value("name", "");
    CHECK(name == fx.example().at("rooms").at(key).at("name").get<std::string>() + " (archived)");
    CHECK(state_content(state, "m.room.topic").value("topic", "") ==
          "Archived on " + archived_on + "; it will be deleted on " + deleted_on + ".");
    CHECK(state_content(state, "m.room.join_rules").value("join_rule", "") == "invite");
    CHECK(state_content(state, "m.room.power_levels").value("events_default", 0) == 100);
  }
}

}  // namespace synapse_e2e
