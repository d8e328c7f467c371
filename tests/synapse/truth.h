#pragma once
// What the homeserver shows, compared with what the desired state asks for:
// read through the server's own APIs (tests/support/real_homeserver.h),
// never from mxctl's output or state store.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/synapse/fixture.h"

namespace synapse_e2e {

using RoomState = std::map<std::string, nlohmann::json>;

/// The content of state event (type, state_key); an empty object when absent.
inline nlohmann::json state_content(const RoomState& state, const std::string& type, const std::string& key = "") {
  auto found = state.find(type + "|" + key);
  return found == state.end() || !found->second.is_object() ? nlohmann::json::object() : found->second;
}

/// user → membership ("invite", "join", "leave", "ban") of every member event.
inline std::map<std::string, std::string> memberships(const RoomState& state) {
  std::map<std::string, std::string> out;
  for (const auto& [key, content] : state) {
    if (key.rfind("m.room.member|", 0) == 0) {
      out[key.substr(std::string("m.room.member|").size())] = content.value("membership", "");
    }
  }
  return out;
}

/// The state a restore must bring back exactly: names, topics, join rules,
/// power levels, history visibility and space links.
inline RoomState restorable(const RoomState& state) {
  RoomState out;
  for (const auto& [key, content] : state) {
    for (const char* type : {"m.room.name|", "m.room.topic|", "m.room.join_rules|", "m.room.power_levels|",
                             "m.room.history_visibility|", "m.space.child|", "m.space.parent|"}) {
      if (key.rfind(type, 0) == 0) {
        out[key] = content;
      }
    }
  }
  return out;
}

/// Room ids of the desired rooms, looked up by alias on the server.
class RoomIds {
 public:
  /// Aliases from `desired`, else from the fixture's example.
  RoomIds(const Fixture& fx, const nlohmann::json& desired) : m_fx(fx), m_desired(desired) {}
  /// The room the key's alias names, nothing when it names none.
  std::optional<std::string> of(const std::string& key) {
    if (!m_ids.count(key)) {
      const nlohmann::json& rooms = m_desired.at("rooms");
      const std::string alias = rooms.contains(key) ? rooms[key].at("alias").get<std::string>() : m_fx.alias(key);
      m_ids[key] = m_fx.server().room_of_alias(alias);
    }
    return m_ids[key];
  }

 private:
  const Fixture& m_fx;
  const nlohmann::json& m_desired;
  std::map<std::string, std::optional<std::string>> m_ids;
};

/// How a room with a context message opened, as its people read it: the
/// message (`body`, once) first, then the encryption, then the invites.
inline std::vector<std::string> opening_problems(const Fixture& fx, const std::string& room_id,
                                                 const std::string& body) {
  std::vector<std::string> problems;
  // As the bot, a member: Synapse 1.67 has no admin messages API.
  auto page = fx.server().call("GET",
                               "/_matrix/client/v3/rooms/" + testing_support::url_encode(room_id) +
                                   "/messages?dir=b&limit=1000",
                               fx.bot_token());
  if (page.status != 200 || !page.body.contains("chunk")) {
    return {"its timeline cannot be read: " + page.body.dump()};
  }
  std::optional<std::size_t> message;
  std::optional<std::size_t> encryption;
  std::optional<std::size_t> invite;
  int messages = 0;
  // Newest first (dir=b needs no `from` token on any version).
  std::vector<nlohmann::json> events = page.body["chunk"];
  std::reverse(events.begin(), events.end());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const nlohmann::json& event = events[i];
    const std::string type = event.value("type", "");
    if (type == "m.room.message" && event["content"].value("body", "") == body) {
      ++messages;
      message = message.value_or(i);
    } else if (type == "m.room.encryption") {
      encryption = encryption.value_or(i);
    } else if (type == "m.room.member" && event["content"].value("membership", "") == "invite") {
      invite = invite.value_or(i);
    }
  }
  if (messages != 1) {
    problems.push_back("the context message is there " + std::to_string(messages) + " times");
  }
  if (message && encryption && *encryption < *message) {
    problems.push_back("the room was encrypted before its context message went out");
  }
  if (invite && (!encryption || *invite < *encryption)) {
    problems.push_back("someone was invited before the room was encrypted");
  }
  if (invite && message && *invite < *message) {
    problems.push_back("someone was invited before the context message went out");
  }
  return problems;
}

/// Everything about room `key` that differs from the desired `room`, one
/// line each. Members in `ignored_users` are left out of the comparison.
inline std::vector<std::string> room_problems(const Fixture& fx, RoomIds& ids, const std::string& key,
                                              const nlohmann::json& room,
                                              const std::set<std::string>& ignored_users = {}) {
  std::vector<std::string> problems;
  auto problem = [&](const std::string& what) { problems.push_back(key + ": " + what); };
  auto room_id = ids.of(key);
  if (!room_id) {
    problem("alias " + room.at("alias").get<std::string>() + " names no room");
    return problems;
  }
  const RoomState state = fx.server().room_state(*room_id);
  const nlohmann::json marker = state_content(state, k_marker_type);
  if (marker.value("key", "") != key || marker.value("instance", "") != fx.instance()) {
    problem("marker is " + marker.dump());
  }
  const nlohmann::json create = state_content(state, "m.room.create");
  if ((create.value("type", "") == "m.space") != (room.at("kind") == "space")) {
    problem("create event " + create.dump() + " for a " + room.at("kind").get<std::string>());
  }
  if (room.value("archived", false)) {
    return problems;  // Its name, topic and levels are the archive's (see the lifecycle test).
  }
  auto expect = [&](const std::string& what, const nlohmann::json& have, const nlohmann::json& want) {
    if (have != want) {
      problem(what + " is " + have.dump() + ", desired " + want.dump());
    }
  };
  expect("name", state_content(state, "m.room.name").value("name", nlohmann::json()), room.at("name"));
  expect("topic", state_content(state, "m.room.topic").value("topic", nlohmann::json("")),
         room.value("topic", nlohmann::json("")));
  expect("history visibility", state_content(state, "m.room.history_visibility").value("history_visibility", ""),
         room.at("history_visibility"));
  const nlohmann::json join_rules = state_content(state, "m.room.join_rules");
  expect("join rule", join_rules.value("join_rule", ""), room.at("join_rule"));
  if (room.contains("allow_spaces")) {
    std::set<std::string> want;
    for (const auto& space : room["allow_spaces"]) {
      want.insert(ids.of(space.get<std::string>()).value_or("?"));
    }
    std::set<std::string> have;
    for (const auto& allow : join_rules.value("allow", nlohmann::json::array())) {
      have.insert(allow.value("room_id", ""));
    }
    expect("restricted join allow list", have, want);
  }
  const bool encrypted = !state_content(state, "m.room.encryption").empty();
  expect("encryption", encrypted, room.at("encrypted"));
  if (room.contains("guest_access")) {
    // Synapse's private_chat preset would say can_join; the initial state's wins.
    expect("guest access", state_content(state, "m.room.guest_access").value("guest_access", ""),
           room["guest_access"]);
  }
  if (room.contains("avatar_url")) {
    expect("avatar", state_content(state, "m.room.avatar").value("url", ""), room["avatar_url"]);
  }
  // Every managed power-level key as desired; keys mxctl does not manage
  // (Synapse's "historical") are checked where a test cares about them.
  const nlohmann::json levels = state_content(state, "m.room.power_levels");
  for (const auto& [field, desired_value] : room.at("power_levels").items()) {
    nlohmann::json have = levels.value(field, nlohmann::json());
    nlohmann::json want = desired_value;
    if (field == "users") {
      for (const std::string& user : ignored_users) {
        have.erase(user);
        want.erase(user);
      }
    }
    expect("power_levels." + field, have, want);
  }
  // Invited or joined: exactly the desired members and the bot.
  std::set<std::string> want_members(room.at("members").begin(), room.at("members").end());
  want_members.insert(fx.bot());
  std::set<std::string> have_members;
  for (const auto& [user, membership] : memberships(state)) {
    if ((membership == "invite" || membership == "join") && !ignored_users.count(user)) {
      have_members.insert(user);
    }
  }
  for (const std::string& user : ignored_users) {
    want_members.erase(user);
  }
  expect("members", have_members, want_members);
  if (room.value("is_direct", false)) {
    for (const auto& [user, membership] : memberships(state)) {
      const nlohmann::json member = state_content(state, "m.room.member", user);
      if (membership == "invite" && member.value("is_direct", false) != true) {
        problem("the invite of " + user + " is not marked direct: " + member.dump());
      }
    }
  }
  // A room upgraded since starts without it: the message is in its predecessor.
  if (room.contains("once_message") && !create.contains("predecessor")) {
    for (const std::string& found : opening_problems(fx, *room_id, room["once_message"].at("body"))) {
      problem(found);
    }
  }
  for (const auto& child : room.value("children", nlohmann::json::array())) {
    auto child_id = ids.of(child.at("key").get<std::string>());
    const nlohmann::json link = child_id ? state_content(state, "m.space.child", *child_id) : nlohmann::json::object();
    if (link.value("via", nlohmann::json::array()).empty()) {
      problem("no space child link to " + child.at("key").get<std::string>() + ": " + link.dump());
    }
  }
  if (room.contains("parent") && room["parent"].is_object()) {
    auto parent_id = ids.of(room["parent"].at("key").get<std::string>());
    const nlohmann::json link = parent_id ? state_content(state, "m.space.parent", *parent_id) : nlohmann::json::object();
    if (link.value("via", nlohmann::json::array()).empty()) {
      problem("no space parent link to " + room["parent"].at("key").get<std::string>() + ": " + link.dump());
    }
  }
  return problems;
}

/// Every difference between the server and `desired` (`mxctl desired -o
/// json`): each room as room_problems says, and each account active or
/// not, with its admin flag (synapse-admin only) and display name.
inline std::vector<std::string> convergence_problems(const Fixture& fx, const nlohmann::json& desired,
                                                     const std::set<std::string>& ignored_users = {}) {
  std::vector<std::string> problems;
  RoomIds ids(fx, desired);
  for (const auto& [key, room] : desired.at("rooms").items()) {
    auto found = room_problems(fx, ids, key, room, ignored_users);
    problems.insert(problems.end(), found.begin(), found.end());
  }
  for (const auto& [key, account] : desired.at("accounts").items()) {
    const std::string id = account.at("user_id");
    auto user = fx.server().user(id);
    if (account.at("status") != "active") {
      continue;  // Suspension is checked by the lifecycle tests.
    }
    if (!user) {
      problems.push_back("account " + id + " does not exist");
      continue;
    }
    if (testing_support::admin_flag(user->value("deactivated", nlohmann::json(0)))) {
      problems.push_back("account " + id + " is deactivated");
    }
    if (!fx.appservice() &&
        testing_support::admin_flag(user->value("admin", nlohmann::json(0))) != account.value("admin", false)) {
      problems.push_back("account " + id + " admin flag is " + user->value("admin", nlohmann::json()).dump());
    }
    if (account.contains("display_name") && user->value("displayname", nlohmann::json()) != account["display_name"]) {
      problems.push_back("account " + id + " display name is " + user->value("displayname", nlohmann::json()).dump());
    }
  }
  return problems;
}

/// Joins problems into one message for INFO.
inline std::string lines(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out += item + "\n";
  }
  return out;
}

/// Every room on the server carrying this fixture's marker, by marker key,
/// plus the rooms the bot created that carry none (under key "").
inline std::map<std::string, std::vector<std::string>> marker_census(const Fixture& fx) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& room : fx.server().rooms()) {
    const std::string room_id = room.at("room_id");
    const RoomState state = fx.server().room_state(room_id);
    const nlohmann::json marker = state_content(state, k_marker_type);
    if (marker.value("instance", "") == fx.instance() && marker.contains("key")) {
      out[marker.value("key", "")].push_back(room_id);
    } else if (room.value("creator", nlohmann::json()) == fx.bot()) {
      out[""].push_back(room_id);
    }
  }
  return out;
}

}  // namespace synapse_e2e
