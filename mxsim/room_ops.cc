#include "mxsim/room_ops.h"

#include <set>

#include "mxsim/auth_rules.h"
#include "mxsim/errors.h"
#include "mxsim/ids.h"
#include "mxsim/membership.h"

namespace mxsim {

namespace {

struct Preset {
  std::string join_rule;
  std::string history_visibility;
  bool guest_can_join;
  bool invitees_have_ops;
  int invite_level;
};

std::optional<Preset> preset_named(const std::string& name) {
  if (name == "private_chat") {
    return Preset{"invite", "shared", true, false, 0};
  }
  if (name == "trusted_private_chat") {
    return Preset{"invite", "shared", true, true, 0};
  }
  if (name == "public_chat") {
    return Preset{"public", "shared", false, false, 50};
  }
  return std::nullopt;
}

std::string string_or_empty(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return "";
  }
  if (!it->is_string()) {
    throw bad_json(std::string("'") + key + "' must be a string");
  }
  return it->get<std::string>();
}

void check_alias_points_here(ServerState& state, const std::string& alias, const std::string& room_id) {
  auto it = state.aliases.find(alias);
  if (!parse_room_alias(alias) || it == state.aliases.end() || it->second.room_id != room_id) {
    throw MatrixError(400, "M_BAD_ALIAS", "Room alias " + alias + " does not point to the room");
  }
}

void validate_canonical_alias(ServerState& state, const std::string& room_id, const nlohmann::json& content) {
  auto alias = content.find("alias");
  if (alias != content.end() && !alias->is_null()) {
    if (!alias->is_string()) {
      throw invalid_param("Invalid alias");
    }
    if (!alias->get<std::string>().empty()) {
      check_alias_points_here(state, alias->get<std::string>(), room_id);
    }
  }
  auto alt = content.find("alt_aliases");
  if (alt != content.end()) {
    if (!alt->is_array()) {
      throw invalid_param("alt_aliases must be a list");
    }
    for (const auto& entry : *alt) {
      if (!entry.is_string()) {
        throw invalid_param("Invalid alias");
      }
      check_alias_points_here(state, entry.get<std::string>(), room_id);
    }
  }
}

nlohmann::json default_power_levels(const std::string& creator, const Preset& preset,
                                    const std::vector<std::string>& invitees) {
  nlohmann::json users = {{creator, 100}};
  if (preset.invitees_have_ops) {
    for (const auto& invitee : invitees) {
      users[invitee] = 100;
    }
  }
  return {{"users", users},
          {"users_default", 0},
          {"events",
           {{"m.room.name", 50},
            {"m.room.power_levels", 100},
            {"m.room.history_visibility", 100},
            {"m.room.canonical_alias", 50},
            {"m.room.avatar", 50},
            {"m.room.tombstone", 100},
            {"m.room.server_acl", 100},
            {"m.room.encryption", 100}}},
          {"events_default", 0},
          {"state_default", 50},
          {"ban", 50},
          {"kick", 50},
          {"redact", 50},
          {"invite", preset.invite_level},
          // Synapse 1.67 (handlers/room.py) adds MSC2716's level at the top
          // level; a controller that writes only the keys it knows drops it.
          {"historical", 100}};
}

}  // namespace

bool is_supported_room_version(const std::string& version) {
  static const std::set<std::string> k_versions = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"};
  return k_versions.count(version) > 0;
}

CreatedRoom create_room(ServerState& state, const Requester& requester, const nlohmann::json& body,
                        const std::string& default_version, const std::function<void()>& persisting,
                        const std::function<void(std::size_t)>& check_invite_count) {
  const std::string& creator = requester.user_id;

  // Validate everything first, so a refused request leaves nothing behind.
  std::string version = default_version;
  if (body.contains("room_version")) {
    if (!body["room_version"].is_string()) {
      throw bad_json("'room_version' must be a string");
    }
    version = body["room_version"].get<std::string>();
  }
  if (!is_supported_room_version(version)) {
    throw MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION", "Your homeserver does not support this room version");
  }
  std::string visibility = string_or_empty(body, "visibility");
  if (visibility.empty()) {
    visibility = "private";
  }
  std::string preset_name = string_or_empty(body, "preset");
  if (preset_name.empty()) {
    preset_name = visibility == "public" ? "public_chat" : "private_chat";
  }
  std::optional<Preset> preset = preset_named(preset_name);
  if (!preset) {
    throw bad_json("'" + preset_name + "' is not a valid preset");
  }

  std::string alias;
  if (body.contains("room_alias_name")) {
    std::string name = string_or_empty(body, "room_alias_name");
    for (char c : name) {
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
        throw unknown_error(400, "Invalid characters in room alias");
      }
    }
    if (name.find(':') != std::string::npos) {
      throw unknown_error(400,
                          "':' is not permitted in the room alias name. Please note this expects a local part — "
                          "'wombat', not '#wombat:example.com'.");
    }
    alias = "#" + name + ":" + state.server_name;
    if (state.aliases.count(alias)) {
      throw MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken", {{"room_alias", alias}});
    }
    const AppService* owner = state.exclusive_alias_owner(alias);
    if (owner && owner->id != requester.appservice_id) {
      throw MatrixError(400, "M_EXCLUSIVE", "This alias is reserved by an application service.");
    }
  }

  std::vector<std::string> invitees;
  if (body.contains("invite")) {
    if (!body["invite"].is_array()) {
      throw bad_json("'invite' must be a list");
    }
    for (const auto& entry : body["invite"]) {
      if (!entry.is_string() || !parse_user_id(entry.get<std::string>())) {
        throw unknown_error(400, "Invalid user_id: " + (entry.is_string() ? entry.get<std::string>() : entry.dump()));
      }
      invitees.push_back(entry.get<std::string>());
    }
  }
  if (check_invite_count && !invitees.empty()) {
    check_invite_count(invitees.size());
  }

  // Keyed like Synapse's OrderedDict: a repeated (type, key) keeps its first
  // position and its last content.
  std::vector<std::tuple<std::string, std::string, nlohmann::json>> initial_state;
  std::set<StateKey> initial_keys;
  std::optional<nlohmann::json> initial_power_levels;
  if (body.contains("initial_state")) {
    if (!body["initial_state"].is_array()) {
      throw bad_json("'initial_state' must be a list");
    }
    for (const auto& entry : body["initial_state"]) {
      if (!entry.is_object() || !entry.contains("type") || !entry["type"].is_string() || !entry.contains("content") ||
          !entry["content"].is_object()) {
        throw bad_json("initial_state events need a string 'type' and an object 'content'");
      }
      std::string type = entry["type"].get<std::string>();
      std::string key = entry.contains("state_key") && entry["state_key"].is_string()
                            ? entry["state_key"].get<std::string>()
                            : "";
      if (type == "m.room.power_levels" && key.empty()) {
        initial_power_levels = entry["content"];
        continue;
      }
      if (initial_keys.insert({type, key}).second) {
        initial_state.emplace_back(type, key, entry["content"]);
      } else {
        for (auto& [existing_type, existing_key, content] : initial_state) {
          if (existing_type == type && existing_key == key) {
            content = entry["content"];
          }
        }
      }
    }
  }

  nlohmann::json creation_content = nlohmann::json::object();
  if (body.contains("creation_content")) {
    if (!body["creation_content"].is_object()) {
      throw bad_json("'creation_content' must be an object");
    }
    creation_content = body["creation_content"];
  }
  std::string name = string_or_empty(body, "name");
  std::string topic = string_or_empty(body, "topic");
  bool is_direct = body.value("is_direct", false);

  // As in Synapse, power levels given in initial_state win outright; the
  // override only applies on top of the generated defaults.
  nlohmann::json power_levels = initial_power_levels.value_or(default_power_levels(creator, *preset, invitees));
  if (body.contains("power_level_content_override") && !body["power_level_content_override"].is_null()) {
    const auto& override_content = body["power_level_content_override"];
    if (!override_content.is_object()) {
      throw bad_json("'power_level_content_override' must be an object");
    }
    if (override_content.contains("users") &&
        !(override_content["users"].is_object() && override_content["users"].contains(creator))) {
      throw unknown_error(400, "Not a valid power_level_content_override: 'users' did not contain " + creator);
    }
    if (!initial_power_levels) {
      for (auto it = override_content.begin(); it != override_content.end(); ++it) {
        power_levels[it.key()] = it.value();
      }
    }
  }
  validate_power_levels_content(power_levels);

  // Create.
  std::string room_id;
  do {
    room_id = new_room_id(state.server_name);
  } while (state.rooms.count(room_id));
  state.rooms[room_id] = std::make_unique<Room>(room_id, version);
  Room& room = *state.rooms[room_id];
  // Synapse registers the alias before it sends the room's first event.
  if (!alias.empty()) {
    state.aliases[alias] = AliasEntry{room_id, creator};
  }
  if (persisting) {
    persisting();
  }

  if (version != "11") {
    creation_content["creator"] = creator;
  }
  creation_content["room_version"] = version;
  Event create;
  create.type = "m.room.create";
  create.sender = creator;
  create.state_key = "";
  create.content = creation_content;
  state.commit_event(room, std::move(create));
  update_membership(state, room, MembershipChange{creator, creator, "join", std::nullopt, {}});
  put_state(state, room, creator, "m.room.power_levels", "", power_levels);
  if (!alias.empty() && !initial_keys.count({"m.room.canonical_alias", ""})) {
    put_state(state, room, creator, "m.room.canonical_alias", "", {{"alias", alias}});
  }
  if (!initial_keys.count({"m.room.join_rules", ""})) {
    put_state(state, room, creator, "m.room.join_rules", "", {{"join_rule", preset->join_rule}});
  }
  if (!initial_keys.count({"m.room.history_visibility", ""})) {
    put_state(state, room, creator, "m.room.history_visibility", "",
              {{"history_visibility", preset->history_visibility}});
  }
  if (preset->guest_can_join && !initial_keys.count({"m.room.guest_access", ""})) {
    put_state(state, room, creator, "m.room.guest_access", "", {{"guest_access", "can_join"}});
  }
  if (persisting) {
    persisting();
  }
  for (const auto& [type, key, content] : initial_state) {
    put_state(state, room, creator, type, key, content);
  }
  if (body.contains("name")) {
    put_state(state, room, creator, "m.room.name", "", {{"name", name}});
  }
  if (body.contains("topic")) {
    put_state(state, room, creator, "m.room.topic", "", {{"topic", topic}});
  }
  for (const auto& invitee : invitees) {
    nlohmann::json extra = nlohmann::json::object();
    if (is_direct) {
      extra["is_direct"] = true;
    }
    update_membership(state, room, MembershipChange{creator, invitee, "invite", std::nullopt, extra});
  }
  room.set_published(visibility == "public");
  return CreatedRoom{room_id, alias};
}

std::string put_state(ServerState& state, Room& room, const std::string& sender, const std::string& type,
                      const std::string& state_key, const nlohmann::json& content) {
  if (!content.is_object()) {
    throw bad_json("Content must be a JSON object.");
  }
  if (type == "m.room.member") {
    MembershipChange change;
    change.sender = sender;
    change.target = state_key;
    change.action = content.value("membership", "");
    change.extra_content = content;
    if (!parse_user_id(state_key)) {
      throw bad_json("Not a valid user_id: " + state_key);
    }
    return update_membership(state, room, change);
  }
  if (type == "m.room.power_levels") {
    validate_power_levels_content(content);
  }
  if (type == "m.room.canonical_alias") {
    validate_canonical_alias(state, room.room_id(), content);
  }
  // Synapse's deduplicate_state_event: same sender and same content means
  // the existing event stands and nothing is sent.
  const Event* current = room.state_event(type, state_key);
  if (current && current->sender == sender && current->content == content) {
    return current->event_id;
  }
  Event event;
  event.type = type;
  event.sender = sender;
  event.state_key = state_key;
  event.content = content;
  return state.commit_event(room, std::move(event)).event_id;
}

std::string send_message(ServerState& state, Room& room, const std::string& sender, const std::string& type,
                         const nlohmann::json& content) {
  Event event;
  event.type = type;
  event.sender = sender;
  event.content = content;
  return state.commit_event(room, std::move(event)).event_id;
}

std::string redact_event(ServerState& state, Room& room, const std::string& sender, const std::string& target_id,
                         const nlohmann::json& content) {
  Event event;
  event.type = "m.room.redaction";
  event.sender = sender;
  event.redacts = target_id;
  event.content = content.is_object() ? content : nlohmann::json::object();
  if (room.version_number() >= 11) {
    event.content["redacts"] = target_id;
  }
  const Event& stored = state.commit_event(room, std::move(event));
  room.redact(target_id, stored.to_client(true));
  return stored.event_id;
}

std::map<StateKey, const Event*> readable_state(ServerState& state, const std::string& room_id,
                                                const std::string& user_id) {
  Room* room = state.find_room(room_id);
  auto refuse = [&]() {
    return forbidden("User " + user_id + " not in room " + room_id + ", and room previews are disabled");
  };
  if (!room) {
    throw refuse();
  }
  const Event* member = room->state_event("m.room.member", user_id);
  std::string membership = member ? member->membership() : "";
  if (membership == "join") {
    return room->current_state();
  }
  if (membership == "leave" || membership == "ban") {
    return room->state_after(static_cast<size_t>(room->index_of(member->event_id)));
  }
  if (room->state_string("m.room.history_visibility", "history_visibility") == "world_readable") {
    return room->current_state();
  }
  throw refuse();
}

void remove_alias(ServerState& state, const std::string& alias, const std::string& sender) {
  auto it = state.aliases.find(alias);
  if (it == state.aliases.end()) {
    return;
  }
  std::string room_id = it->second.room_id;
  state.aliases.erase(it);
  ++state.revision;
  Room* room = state.find_room(room_id);
  if (!room) {
    return;
  }
  const Event* canonical = room->state_event("m.room.canonical_alias");
  if (!canonical) {
    return;
  }
  nlohmann::json content = canonical->content;
  bool changed = false;
  if (content.value("alias", "") == alias) {
    content.erase("alias");
    changed = true;
  }
  if (content.contains("alt_aliases") && content["alt_aliases"].is_array()) {
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& entry : content["alt_aliases"]) {
      if (entry != alias) {
        kept.push_back(entry);
      }
    }
    if (kept.size() != content["alt_aliases"].size()) {
      content["alt_aliases"] = kept;
      changed = true;
    }
  }
  if (changed) {
    try {
      put_state(state, *room, sender, "m.room.canonical_alias", "", content);
    } catch (const MatrixError&) {
      // Synapse also gives up quietly when the deleter may not update it.
    }
  }
}

}  // namespace mxsim
