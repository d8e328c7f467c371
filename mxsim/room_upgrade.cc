#include "mxsim/room_upgrade.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "mxsim/auth_rules.h"
#include "mxsim/errors.h"
#include "mxsim/ids.h"
#include "mxsim/membership.h"
#include "mxsim/room_ops.h"

namespace mxsim {

namespace {

// Synapse's ResponseCache for upgrades keeps a finished answer this long.
constexpr int64_t k_remembered_ms = 5 * 60 * 1000;

// The state clone_existing_room copies, in its order (a space adds its children).
const std::vector<std::string> k_copied_types = {"m.room.join_rules",         "m.room.name",
                                                 "m.room.topic",              "m.room.history_visibility",
                                                 "m.room.guest_access",       "m.room.avatar",
                                                 "m.room.encryption",         "m.room.server_acl",
                                                 "m.room.power_levels"};

// Python's truthiness, for `not content.get("m.federate", True)`.
bool falsy(const nlohmann::json& value) {
  return value.is_null() || (value.is_boolean() && !value.get<bool>()) ||
         (value.is_number() && value.get<double>() == 0) || (value.is_string() && value.get<std::string>().empty()) ||
         ((value.is_array() || value.is_object()) && value.empty());
}

int level_or(const nlohmann::json& levels, const char* key, int fallback) {
  auto it = levels.find(key);
  return it != levels.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

// is_mine_id: the part after the first ':' is this server.
bool is_local(const ServerState& state, const std::string& id) {
  auto colon = id.find(':');
  return colon != std::string::npos && id.substr(colon + 1) == state.server_name;
}

std::optional<std::string> remembered_upgrade(ServerState& state, const std::string& room_id,
                                              const std::string& user_id) {
  int64_t now = now_ms();
  std::erase_if(state.recent_upgrades, [now](const RecentUpgrade& done) { return done.until_ms <= now; });
  for (const auto& done : state.recent_upgrades) {
    if (done.old_room_id == room_id && done.user_id == user_id) {
      return done.new_room_id;
    }
  }
  return std::nullopt;
}

// The old room's levels; Synapse fails with a KeyError (no levels) or a
// ValueError (max() of no `events` levels) there, after checking auth.
nlohmann::json cloneable_power_levels(const Room& room) {
  const Event* levels = room.state_event("m.room.power_levels");
  if (!levels || !levels->content.contains("events") || !levels->content["events"].is_object() ||
      levels->content["events"].empty()) {
    throw unknown_error(500, "Internal server error");
  }
  return levels->content;
}

// The power levels the new room starts with: the old ones, with the upgrader
// raised to what copying every state event and ban needs.
nlohmann::json raised_power_levels(nlohmann::json levels, const std::string& user_id) {
  int needed = std::max(level_or(levels, "state_default", 50), level_or(levels, "ban", 50));
  for (const auto& [type, level] : levels["events"].items()) {
    if (level.is_number_integer()) {
      needed = std::max(needed, level.get<int>());
    }
  }
  if (!levels.contains("users") || !levels["users"].is_object()) {
    levels["users"] = nlohmann::json::object();
  }
  nlohmann::json& users = levels["users"];
  int current = users.contains(user_id) && users[user_id].is_number_integer() ? users[user_id].get<int>()
                                                                               : level_or(levels, "users_default", 0);
  if (current < needed) {
    users[user_id] = needed;
  }
  return levels;
}

// clone_existing_room: createRoom with the private_chat preset and the
// copied state as initial_state, then the old room's bans.
std::string clone_room(ServerState& state, const Requester& requester, const Room& old_room,
                       const std::string& version, const std::string& tombstone_id, const nlohmann::json& levels) {
  nlohmann::json creation = {{"predecessor", {{"room_id", old_room.room_id()}, {"event_id", tombstone_id}}}};
  bool space = false;
  if (const Event* create = old_room.state_event("m.room.create")) {
    auto federate = create->content.find("m.federate");
    if (federate != create->content.end() && falsy(*federate)) {
      creation["m.federate"] = false;
    }
    auto type = create->content.find("type");
    if (type != create->content.end() && !type->is_null()) {
      creation["type"] = *type;
      space = *type == "m.space";
    }
  }

  nlohmann::json initial_state = nlohmann::json::array();
  for (const auto& type : k_copied_types) {
    const Event* event = old_room.state_event(type);
    if (!event) {
      continue;
    }
    nlohmann::json content = type == "m.room.power_levels" ? raised_power_levels(levels, requester.user_id)
                                                           : event->content;
    initial_state.push_back({{"type", type}, {"state_key", ""}, {"content", content}});
  }
  if (space) {
    for (const auto& [key, event] : old_room.current_state()) {
      // A child with empty content was removed from the space.
      if (key.first == "m.space.child" && !event->content.empty()) {
        initial_state.push_back({{"type", key.first}, {"state_key", key.second}, {"content", event->content}});
      }
    }
  }

  nlohmann::json body = {{"room_version", version},
                         {"preset", "private_chat"},
                         {"creation_content", creation},
                         {"initial_state", initial_state}};
  std::string room_id = create_room(state, requester, body, version).room_id;
  Room& new_room = *state.find_room(room_id);
  new_room.set_published(old_room.published());
  // Only bans are carried over: Synapse 1.67 copies neither invites nor
  // joins (a comment there leaves them for later), so only the upgrader is in.
  for (const auto& banned : old_room.users_with("ban")) {
    nlohmann::json content = old_room.state_event("m.room.member", banned)->content;
    update_membership(state, new_room, MembershipChange{requester.user_id, banned, "ban", std::nullopt, content});
  }
  return room_id;
}

// _move_aliases_to_new_room: every alias of the old room now points to the
// new one, and the local ones leave the old canonical alias event for the new.
void move_aliases(ServerState& state, const std::string& sender, Room& old_room, Room& new_room,
                  const std::optional<nlohmann::json>& canonical) {
  bool moved = false;
  for (auto& [alias, entry] : state.aliases) {
    if (entry.room_id == old_room.room_id()) {
      entry.room_id = new_room.room_id();
      moved = true;
    }
  }
  if (moved) {
    state.advance_stream();
  }
  if (!canonical) {
    return;
  }
  nlohmann::json old_content = *canonical;
  nlohmann::json new_content = nlohmann::json::object();
  auto alias = canonical->find("alias");
  if (alias != canonical->end() && alias->is_string() && !alias->get<std::string>().empty() &&
      is_local(state, alias->get<std::string>())) {
    new_content["alias"] = *alias;
    old_content.erase("alias");
  }
  auto alt = canonical->find("alt_aliases");
  if (alt != canonical->end() && alt->is_array() && !alt->empty()) {
    nlohmann::json kept = nlohmann::json::array();
    new_content["alt_aliases"] = nlohmann::json::array();
    for (const auto& entry : *alt) {
      if (entry.is_string() && is_local(state, entry.get<std::string>())) {
        new_content["alt_aliases"].push_back(entry);
      } else {
        kept.push_back(entry);
      }
    }
    if (kept.empty()) {
      old_content.erase("alt_aliases");
    } else {
      old_content["alt_aliases"] = kept;
    }
  }
  auto send = [&](Room& room, const nlohmann::json& content) {
    try {
      put_state(state, room, sender, "m.room.canonical_alias", "", content);
    } catch (const MatrixError&) {
      // Synapse logs the refusal and still answers with the new room.
    }
  };
  send(old_room, old_content);
  send(new_room, new_content);
}

// transfer_room_state_on_room_upgrade: each joined local user's m.direct
// entry and room tags follow the room, and so does directory publication.
// (Push rules are copied too on Synapse; mxsim has none.)
void transfer_user_state(ServerState& state, Room& old_room, Room& new_room) {
  const std::string& old_id = old_room.room_id();
  const std::string& new_id = new_room.room_id();
  for (const auto& user_id : old_room.users_with("join")) {
    User* user = state.find_user(user_id);
    if (!user) {
      continue;
    }
    auto direct = user->account_data.find("m.direct");
    if (direct != user->account_data.end() && direct->second.is_object()) {
      for (auto& [key, rooms] : direct->second.items()) {
        if (rooms.is_array() && std::find(rooms.begin(), rooms.end(), old_id) != rooms.end() &&
            std::find(rooms.begin(), rooms.end(), new_id) == rooms.end()) {
          rooms.push_back(new_id);
          user->account_data_stream["m.direct"] = state.advance_stream();
          break;
        }
      }
    }
    auto room_data = user->room_account_data.find(old_id);
    if (room_data != user->room_account_data.end() && room_data->second.count("m.tag")) {
      const nlohmann::json& tags = room_data->second.at("m.tag");
      if (tags.contains("tags") && tags["tags"].is_object() && !tags["tags"].empty()) {
        nlohmann::json& copied = user->room_account_data[new_id]["m.tag"];
        if (!copied.is_object() || !copied.contains("tags") || !copied["tags"].is_object()) {
          copied = {{"tags", nlohmann::json::object()}};
        }
        for (const auto& [tag, content] : tags["tags"].items()) {
          copied["tags"][tag] = content;
        }
        state.advance_stream();
      }
    }
  }
  if (old_room.published()) {
    old_room.set_published(false);
    new_room.set_published(true);
    state.advance_stream();
  }
}

// _update_upgraded_room_pls: ordinary members of the old room may no longer
// speak or invite, and the new room gets the old levels back unraised.
void update_power_levels(ServerState& state, const std::string& sender, Room& old_room, Room& new_room,
                         const nlohmann::json& levels) {
  nlohmann::json restricted = levels;
  int restricted_level = std::max(level_or(levels, "users_default", 0) + 1, 50);
  bool updated = false;
  for (const char* key : {"invite", "events_default"}) {
    if (level_or(levels, key, 0) < restricted_level) {
      restricted[key] = restricted_level;
      updated = true;
    }
  }
  if (updated) {
    try {
      put_state(state, old_room, sender, "m.room.power_levels", "", restricted);
    } catch (const MatrixError&) {
      // Synapse only logs "Unable to update PLs in old room".
    }
  }
  put_state(state, new_room, sender, "m.room.power_levels", "", levels);
}

}  // namespace

std::string upgrade_room(ServerState& state, const Requester& requester, const std::string& old_room_id,
                         const std::string& new_version) {
  const std::string& user_id = requester.user_id;
  std::optional<std::string> earlier = remembered_upgrade(state, old_room_id, user_id);
  for (const auto& done : state.recent_upgrades) {
    if (done.old_room_id == old_room_id && done.user_id != user_id) {
      throw unknown_error(400, "An upgrade for this room is currently in progress");
    }
  }
  Room* old_room = state.find_room(old_room_id);
  if (!old_room) {
    throw not_found("Unknown room id " + old_room_id);
  }

  // Synapse builds the tombstone first: its auth check is the permission
  // check, and its event id is the new room's predecessor link.
  Event tombstone;
  tombstone.event_id = new_event_id();
  tombstone.type = "m.room.tombstone";
  tombstone.sender = user_id;
  tombstone.state_key = "";
  tombstone.content = {{"body", "This room has been replaced"}, {"replacement_room", ""}};
  check_event_allowed(*old_room, tombstone);
  if (earlier) {
    return *earlier;
  }

  nlohmann::json levels = cloneable_power_levels(*old_room);
  std::optional<nlohmann::json> canonical;
  if (const Event* event = old_room->state_event("m.room.canonical_alias")) {
    canonical = event->content;
  }
  std::string new_room_id = clone_room(state, requester, *old_room, new_version, tombstone.event_id, levels);
  Room& new_room = *state.find_room(new_room_id);
  tombstone.content["replacement_room"] = new_room_id;
  state.commit_event(*old_room, std::move(tombstone));
  move_aliases(state, user_id, *old_room, new_room, canonical);
  transfer_user_state(state, *old_room, new_room);
  update_power_levels(state, user_id, *old_room, new_room, levels);
  state.recent_upgrades.push_back(RecentUpgrade{old_room_id, user_id, new_room_id, now_ms() + k_remembered_ms});
  return new_room_id;
}

}  // namespace mxsim
