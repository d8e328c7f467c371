// Client-server API, room side: createRoom, room upgrades, state, messages,
// redactions, member lists, joined rooms, pagination and the space hierarchy.

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>
#include <thread>

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/invite_checks.h"
#include "mxsim/room_ops.h"
#include "mxsim/room_upgrade.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

Room& room_for_write(ServerState& state, const std::string& room_id) {
  Room* room = state.find_room(room_id);
  if (!room) {
    throw not_found("Unknown room " + room_id);
  }
  return *room;
}

/// Remembers (token, path) -> event id so a retried PUT gets the same event.
std::optional<std::string> known_transaction(ServerState& state, const Requester& requester, const ApiRequest& request) {
  auto it = state.transactions.find(requester.token + '\n' + requester.user_id + '\n' + request.path);
  if (it == state.transactions.end()) {
    return std::nullopt;
  }
  return it->second;
}

void remember_transaction(ServerState& state, const Requester& requester, const ApiRequest& request,
                          const std::string& event_id) {
  state.transactions[requester.token + '\n' + requester.user_id + '\n' + request.path] = event_id;
}

bool in_allowed_room(ServerState& state, const Room& room, const std::string& user_id) {
  const Event* rules = room.state_event("m.room.join_rules");
  if (!rules || !rules->content.contains("allow") || !rules->content["allow"].is_array()) {
    return false;
  }
  for (const auto& entry : rules->content["allow"]) {
    if (entry.is_object() && entry.value("type", "") == "m.room_membership") {
      Room* allowed = state.find_room(entry.value("room_id", ""));
      if (allowed && allowed->membership_of(user_id) == "join") {
        return true;
      }
    }
  }
  return false;
}

/// Synapse's _is_local_room_accessible for the hierarchy API.
bool hierarchy_accessible(ServerState& state, const Room& room, const std::string& user_id) {
  std::string rule = room.join_rule();
  if (rule == "public" || rule == "knock" || rule == "knock_restricted") {
    return true;
  }
  if (room.state_string("m.room.history_visibility", "history_visibility") == "world_readable") {
    return true;
  }
  std::string membership = room.membership_of(user_id);
  if (membership == "join" || membership == "invite") {
    return true;
  }
  return rule == "restricted" && in_allowed_room(state, room, user_id);
}

std::vector<const Event*> space_children(const Room& room, bool suggested_only) {
  std::vector<const Event*> children;
  for (const auto& [key, event] : room.current_state()) {
    if (key.first != "m.space.child") {
      continue;
    }
    auto via = event->content.find("via");
    if (via == event->content.end() || !via->is_array() || via->empty()) {
      continue;
    }
    if (suggested_only && !event->content.value("suggested", false)) {
      continue;
    }
    children.push_back(event);
  }
  return children;
}

nlohmann::json hierarchy_entry(const Room& room, const std::vector<const Event*>& children) {
  nlohmann::json entry = {{"room_id", room.room_id()},
                          {"num_joined_members", room.users_with("join").size()},
                          {"join_rule", room.join_rule()},
                          {"world_readable",
                           room.state_string("m.room.history_visibility", "history_visibility") == "world_readable"},
                          {"guest_can_join", room.state_string("m.room.guest_access", "guest_access") == "can_join"},
                          {"room_version", room.version()}};
  for (const auto& [field, type, key] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"name", "m.room.name", "name"},
           {"topic", "m.room.topic", "topic"},
           {"canonical_alias", "m.room.canonical_alias", "alias"},
           {"avatar_url", "m.room.avatar", "url"},
           {"encryption", "m.room.encryption", "algorithm"}}) {
    std::string value = room.state_string(type, key);
    if (!value.empty()) {
      entry[field] = value;
    }
  }
  if (!room.room_type().empty()) {
    entry["room_type"] = room.room_type();
  }
  nlohmann::json children_state = nlohmann::json::array();
  for (const Event* child : children) {
    nlohmann::json stripped = child->to_stripped();
    stripped["origin_server_ts"] = child->origin_server_ts;
    children_state.push_back(std::move(stripped));
  }
  entry["children_state"] = std::move(children_state);
  return entry;
}

int parse_int_param(const ApiRequest& request, const std::string& name, int fallback) {
  auto value = request.query_param(name);
  if (!value) {
    return fallback;
  }
  try {
    return std::stoi(*value);
  } catch (const std::exception&) {
    throw invalid_param("Query parameter '" + name + "' must be an integer");
  }
}

void add_state_routes(Homeserver& hs, Router& router) {
  router.add_client("GET", "/rooms/{roomId}/state", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    nlohmann::json events = nlohmann::json::array();
    for (const auto& [key, event] : readable_state(state, params.at("roomId"), requester.user_id)) {
      events.push_back(event->to_client(true));
    }
    return ApiResponse::json(200, events);
  });

  router.add_client("GET", "/rooms/{roomId}/state/{eventType}/{stateKey*}",
                    [&hs](const ApiRequest& request, const PathParams& params) {
                      auto lock = hs.read_lock();
                      ServerState& state = hs.state();
                      Requester requester = authenticate(state, request);
                      auto visible = readable_state(state, params.at("roomId"), requester.user_id);
                      auto it = visible.find({params.at("eventType"), params.at("stateKey")});
                      if (it == visible.end()) {
                        throw not_found("Event not found.");
                      }
                      if (request.query_param("format").value_or("content") == "event") {
                        return ApiResponse::json(200, it->second->to_client(true));
                      }
                      return ApiResponse::json(200, it->second->content);
                    });

  router.add_client("PUT", "/rooms/{roomId}/state/{eventType}/{stateKey*}",
                    [&hs](const ApiRequest& request, const PathParams& params) {
                      nlohmann::json body = request.json_object();
                      const std::string& type = params.at("eventType");
                      // Synapse sends a member event through its room member
                      // handler: an invite is checked and limited as /invite's.
                      auto membership = body.find("membership");
                      const bool invite = type == "m.room.member" && membership != body.end() &&
                                          *membership == "invite" && parse_user_id(params.at("stateKey"));
                      if (invite) {
                        check_before_invite(hs, request, params.at("roomId"), params.at("stateKey"));
                      }
                      auto lock = hs.write_lock();
                      ServerState& state = hs.state();
                      Requester requester = authenticate(state, request);
                      if (type != "m.room.member") {
                        require_not_suspended(state, requester,
                                              "Sending state events while account is suspended is not allowed.");
                      } else if (invite) {
                        require_not_suspended(state, requester,
                                              "Sending invites while account is suspended is not allowed.");
                      }
                      Room& room = room_for_write(state, params.at("roomId"));
                      hs.check_rate(invite ? "invite" : "message", requester);
                      std::string event_id = put_state(state, room, requester.user_id, type, params.at("stateKey"), body);
                      return ApiResponse::json(200, {{"event_id", event_id}});
                    });
}

void add_event_routes(Homeserver& hs, Router& router) {
  router.add_client("PUT", "/rooms/{roomId}/send/{eventType}/{txnId}",
                    [&hs](const ApiRequest& request, const PathParams& params) {
                      nlohmann::json body = request.json_object();
                      auto lock = hs.write_lock();
                      ServerState& state = hs.state();
                      Requester requester = authenticate(state, request);
                      if (auto known = known_transaction(state, requester, request)) {
                        return ApiResponse::json(200, {{"event_id", *known}});
                      }
                      require_not_suspended(state, requester,
                                            "Sending messages while account is suspended is not allowed.");
                      Room& room = room_for_write(state, params.at("roomId"));
                      hs.check_rate("message", requester);
                      std::string event_id = send_message(state, room, requester.user_id, params.at("eventType"), body);
                      remember_transaction(state, requester, request, event_id);
                      return ApiResponse::json(200, {{"event_id", event_id}});
                    });

  router.add_client("PUT", "/rooms/{roomId}/redact/{eventId}/{txnId}",
                    [&hs](const ApiRequest& request, const PathParams& params) {
                      nlohmann::json body = request.json_object();
                      auto lock = hs.write_lock();
                      ServerState& state = hs.state();
                      Requester requester = authenticate(state, request);
                      if (auto known = known_transaction(state, requester, request)) {
                        return ApiResponse::json(200, {{"event_id", *known}});
                      }
                      Room& room = room_for_write(state, params.at("roomId"));
                      const Event* target = room.find_event(params.at("eventId"));
                      if (!target || target->sender != requester.user_id) {
                        require_not_suspended(state, requester,
                                              "You cannot redact events of other users while suspended.");
                      }
                      hs.check_rate("message", requester);
                      nlohmann::json content = nlohmann::json::object();
                      if (body.contains("reason")) {
                        content["reason"] = body["reason"];
                      }
                      std::string event_id = redact_event(state, room, requester.user_id, params.at("eventId"), content);
                      remember_transaction(state, requester, request, event_id);
                      return ApiResponse::json(200, {{"event_id", event_id}});
                    });

  router.add_client("GET", "/rooms/{roomId}/event/{eventId}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    Room* room = state.find_room(params.at("roomId"));
    const Event* event = room ? room->find_event(params.at("eventId")) : nullptr;
    if (!event) {
      throw not_found("Event not found.");
    }
    const Event* member = room->state_event("m.room.member", requester.user_id);
    std::string membership = member ? member->membership() : "";
    bool visible = membership == "join" || (member && (membership == "leave" || membership == "ban") &&
                                            event->stream <= member->stream);
    if (!visible) {
      throw not_found("Event not found.");
    }
    return ApiResponse::json(200, event->to_client(true));
  });

  router.add_client("GET", "/rooms/{roomId}/messages", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    readable_state(state, params.at("roomId"), requester.user_id);  // access check only
    Room& room = *state.find_room(params.at("roomId"));
    const Event* member = room.state_event("m.room.member", requester.user_id);
    int64_t visible_until = member && member->membership() != "join" && member->membership() != ""
                                ? member->stream
                                : room.last_stream();
    std::string dir = request.query_param("dir").value_or("b");
    int limit = std::clamp(parse_int_param(request, "limit", 10), 0, 1000);
    std::string from = request.query_param("from").value_or("");
    int64_t position = dir == "b" ? visible_until : 0;
    if (!from.empty()) {
      try {
        position = std::stoll(from.substr(1));
      } catch (const std::exception&) {
        throw invalid_param("Invalid from token");
      }
    }
    nlohmann::json chunk = nlohmann::json::array();
    int64_t end = position;
    const auto& events = room.events();
    if (dir == "b") {
      for (auto it = events.rbegin(); it != events.rend() && static_cast<int>(chunk.size()) < limit; ++it) {
        if (it->stream <= position && it->stream <= visible_until) {
          chunk.push_back(it->to_client(true));
          end = it->stream - 1;
        }
      }
    } else {
      for (auto it = events.begin(); it != events.end() && static_cast<int>(chunk.size()) < limit; ++it) {
        if (it->stream > position && it->stream <= visible_until) {
          chunk.push_back(it->to_client(true));
          end = it->stream;
        }
      }
    }
    nlohmann::json body = {{"chunk", chunk}, {"start", "s" + std::to_string(position)}};
    if (!chunk.empty()) {
      body["end"] = "s" + std::to_string(end);
    }
    return ApiResponse::json(200, body);
  });
}

void add_member_routes(Homeserver& hs, Router& router) {
  router.add_client("GET", "/rooms/{roomId}/members", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    auto membership = request.query_param("membership");
    auto not_membership = request.query_param("not_membership");
    nlohmann::json chunk = nlohmann::json::array();
    for (const auto& [key, event] : readable_state(state, params.at("roomId"), requester.user_id)) {
      if (key.first != "m.room.member") {
        continue;
      }
      if ((membership && event->membership() != *membership) ||
          (not_membership && event->membership() == *not_membership)) {
        continue;
      }
      chunk.push_back(event->to_client(true));
    }
    return ApiResponse::json(200, {{"chunk", chunk}});
  });

  router.add_client("GET", "/rooms/{roomId}/joined_members", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    readable_state(state, params.at("roomId"), requester.user_id);
    Room& room = *state.find_room(params.at("roomId"));
    if (room.membership_of(requester.user_id) != "join") {
      throw forbidden("Getting joined members while not being a current member of the room is forbidden.");
    }
    nlohmann::json joined = nlohmann::json::object();
    for (const auto& user_id : room.users_with("join")) {
      const Event* member = room.state_event("m.room.member", user_id);
      nlohmann::json profile = nlohmann::json::object();
      profile["display_name"] = member->content.value("displayname", nlohmann::json());
      profile["avatar_url"] = member->content.value("avatar_url", nlohmann::json());
      joined[user_id] = profile;
    }
    return ApiResponse::json(200, {{"joined", joined}});
  });

  router.add_client("GET", "/joined_rooms", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    nlohmann::json rooms = nlohmann::json::array();
    for (const auto& [room_id, room] : state.rooms) {
      if (room->membership_of(requester.user_id) == "join") {
        rooms.push_back(room_id);
      }
    }
    return ApiResponse::json(200, {{"joined_rooms", rooms}});
  });
}

void add_hierarchy_route(Homeserver& hs, Router& router) {
  router.add("GET", "/_matrix/client/v1/rooms/{roomId}/hierarchy", [&hs](const ApiRequest& request,
                                                                          const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    const std::string& root_id = params.at("roomId");
    Room* root = state.find_room(root_id);
    if (!root || !hierarchy_accessible(state, *root, requester.user_id)) {
      throw forbidden("User " + requester.user_id + " not in room " + root_id + ", and room previews are disabled");
    }
    bool suggested_only = request.query_param("suggested_only").value_or("false") == "true";
    int limit = parse_int_param(request, "limit", 50);
    int max_depth = parse_int_param(request, "max_depth", 100);
    int from = parse_int_param(request, "from", 0);
    if (limit <= 0 || max_depth < 0 || from < 0) {
      throw invalid_param("Invalid limit, max_depth or from");
    }

    nlohmann::json rooms = nlohmann::json::array();
    std::deque<std::pair<std::string, int>> queue{{root_id, 0}};
    std::set<std::string> seen{root_id};
    while (!queue.empty()) {
      auto [room_id, depth] = queue.front();
      queue.pop_front();
      Room* room = state.find_room(room_id);
      if (!room || (room_id != root_id && !hierarchy_accessible(state, *room, requester.user_id))) {
        continue;
      }
      auto children = space_children(*room, suggested_only);
      rooms.push_back(hierarchy_entry(*room, children));
      if (depth >= max_depth) {
        continue;
      }
      for (const Event* child : children) {
        if (seen.insert(*child->state_key).second) {
          queue.emplace_back(*child->state_key, depth + 1);
        }
      }
    }
    nlohmann::json page = nlohmann::json::array();
    for (size_t i = static_cast<size_t>(from); i < rooms.size() && page.size() < static_cast<size_t>(limit); ++i) {
      page.push_back(rooms[i]);
    }
    nlohmann::json body = {{"rooms", page}};
    if (static_cast<size_t>(from) + page.size() < rooms.size()) {
      body["next_batch"] = std::to_string(from + static_cast<int>(page.size()));
    }
    return ApiResponse::json(200, body);
  });
}

}  // namespace

void add_client_room_routes(Homeserver& hs, Router& router) {
  router.add_client("POST", "/createRoom", [&hs](const ApiRequest& request, const PathParams&) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    require_not_suspended(state, requester, "Room creation is not permitted while the account is suspended.");
    hs.check_rate("message", requester);
    // With a creation lag, others get the state lock while the room is made.
    const std::chrono::milliseconds lag = hs.creation_lag();
    std::function<void()> persisting;
    if (lag.count() > 0) {
      persisting = [&lock, &hs, lag] {
        lock.unlock();
        hs.notify_change();
        std::this_thread::sleep_for(lag / 2);
        lock.lock();
      };
    }
    CreatedRoom created =
        create_room(state, requester, body, hs.settings().default_room_version, persisting,
                    [&hs, &requester](std::size_t invites) { hs.check_invite_count(requester, invites); });
    nlohmann::json answer = {{"room_id", created.room_id}};
    if (!created.alias.empty()) {
      answer["room_alias"] = created.alias;
    }
    return ApiResponse::json(200, answer);
  });
  router.add_client("POST", "/rooms/{roomId}/upgrade", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    // Synapse authenticates before it reads the body.
    Requester requester = authenticate(state, request);
    nlohmann::json body = request.json_object();
    if (!body.contains("new_version")) {
      throw missing_param("Missing params: ['new_version']");
    }
    const nlohmann::json& version = body["new_version"];
    if (!version.is_string() || !is_supported_room_version(version.get<std::string>())) {
      throw MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION", "Your homeserver does not support this room version");
    }
    hs.check_rate("message", requester);
    std::string new_room_id = upgrade_room(state, requester, params.at("roomId"), version.get<std::string>());
    return ApiResponse::json(200, {{"replacement_room", new_room_id}});
  });
  add_state_routes(hs, router);
  add_event_routes(hs, router);
  add_member_routes(hs, router);
  add_hierarchy_route(hs, router);
}

}  // namespace mxsim
