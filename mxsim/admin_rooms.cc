// Synapse admin room API: list, details, state, members, delete (v1 sync,
// v2 with delete status) and force join.

#include <algorithm>

#include "mxsim/admin_common.h"
#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/membership.h"
#include "mxsim/room_ops.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

nlohmann::json nullable_state(const Room& room, const std::string& type, const std::string& field) {
  std::string value = room.state_string(type, field);
  return value.empty() ? nlohmann::json() : nlohmann::json(value);
}

nlohmann::json room_summary(ServerState& state, const Room& room) {
  size_t joined = room.users_with("join").size();
  size_t local = 0;
  for (const auto& user : room.users_with("join")) {
    local += state.is_local_user(user) ? 1 : 0;
  }
  const Event* create = room.state_event("m.room.create");
  bool federatable = !create || create->content.value("m.federate", true);
  size_t state_events = room.current_state().size();
  return {{"room_id", room.room_id()},
          {"name", nullable_state(room, "m.room.name", "name")},
          {"canonical_alias", nullable_state(room, "m.room.canonical_alias", "alias")},
          {"joined_members", joined},
          {"joined_local_members", local},
          {"version", room.version()},
          {"creator", room.creator()},
          {"encryption", nullable_state(room, "m.room.encryption", "algorithm")},
          {"federatable", federatable},
          {"public", room.published()},
          {"join_rules", nullable_state(room, "m.room.join_rules", "join_rule")},
          {"guest_access", nullable_state(room, "m.room.guest_access", "guest_access")},
          {"history_visibility", nullable_state(room, "m.room.history_visibility", "history_visibility")},
          {"state_events", state_events},
          {"room_type", room.room_type().empty() ? nlohmann::json() : nlohmann::json(room.room_type())}};
}

Room& admin_room(ServerState& state, const std::string& room_id) {
  Room* room = state.find_room(room_id);
  if (!room) {
    throw not_found("Room not found");
  }
  return *room;
}

/// Shuts a room down as Synapse does: every joined local user leaves, local
/// aliases are removed; with purge the room is gone afterwards.
nlohmann::json shutdown_room(ServerState& state, const std::string& room_id, const nlohmann::json& body) {
  Room& room = admin_room(state, room_id);
  nlohmann::json kicked = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  for (const auto& user : room.users_with("join")) {
    if (!state.is_local_user(user)) {
      continue;
    }
    try {
      update_membership(state, room, MembershipChange{user, user, "leave", std::nullopt, {}});
      kicked.push_back(user);
    } catch (const MatrixError&) {
      failed.push_back(user);
    }
  }
  nlohmann::json aliases = nlohmann::json::array();
  for (auto it = state.aliases.begin(); it != state.aliases.end();) {
    if (it->second.room_id == room_id) {
      aliases.push_back(it->first);
      it = state.aliases.erase(it);
    } else {
      ++it;
    }
  }
  room.set_published(false);
  if (body.value("block", false)) {
    state.blocked_rooms.insert(room_id);
  }
  if (body.value("purge", true)) {
    state.rooms.erase(room_id);
  }
  state.advance_stream();
  return {{"kicked_users", kicked},
          {"failed_to_kick_users", failed},
          {"local_aliases", aliases},
          {"new_room_id", nlohmann::json()}};
}

nlohmann::json task_json(const DeleteTask& task) {
  return {{"delete_id", task.delete_id},
          {"room_id", task.room_id},
          {"status", task.status},
          {"shutdown_room", task.shutdown_room}};
}

}  // namespace

void add_admin_room_routes(Homeserver& hs, Router& router) {
  router.add("GET", "/_synapse/admin/v1/rooms", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    int from = query_int(request, "from", 0);
    int limit = query_int(request, "limit", 100);
    std::string order_by = request.query_param("order_by").value_or("name");
    std::string search = request.query_param("search_term").value_or("");
    std::vector<nlohmann::json> rooms;
    for (const auto& [room_id, room] : state.rooms) {
      if (!search.empty()) {
        std::string name = room->state_string("m.room.name", "name");
        std::string alias = room->state_string("m.room.canonical_alias", "alias");
        bool hit = name.find(search) != std::string::npos || alias.find(search) != std::string::npos ||
                   room_id.find(search) != std::string::npos;
        if (!hit) {
          continue;
        }
      }
      rooms.push_back(room_summary(state, *room));
    }
    auto text = [](const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : ""; };
    std::stable_sort(rooms.begin(), rooms.end(), [&](const nlohmann::json& a, const nlohmann::json& b) {
      if (order_by == "size" || order_by == "joined_members") {
        return a["joined_members"].get<size_t>() > b["joined_members"].get<size_t>();
      }
      if (order_by == "state_events") {
        return a["state_events"].get<size_t>() > b["state_events"].get<size_t>();
      }
      if (order_by == "canonical_alias") {
        return text(a["canonical_alias"]) < text(b["canonical_alias"]);
      }
      return text(a["name"]) < text(b["name"]);
    });
    if (request.query_param("dir").value_or("f") == "b") {
      std::reverse(rooms.begin(), rooms.end());
    }
    nlohmann::json page = nlohmann::json::array();
    for (size_t i = static_cast<size_t>(from); i < rooms.size() && page.size() < static_cast<size_t>(limit); ++i) {
      page.push_back(rooms[i]);
    }
    nlohmann::json body = {{"rooms", page}, {"offset", from}, {"total_rooms", rooms.size()}};
    if (static_cast<size_t>(from) + page.size() < rooms.size()) {
      body["next_batch"] = from + static_cast<int>(page.size());
    }
    if (from > 0) {
      body["prev_batch"] = std::max(0, from - limit);
    }
    return ApiResponse::json(200, body);
  });

  router.add("GET", "/_synapse/admin/v1/rooms/{roomId}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    Room& room = admin_room(state, params.at("roomId"));
    nlohmann::json body = room_summary(state, room);
    body["topic"] = nullable_state(room, "m.room.topic", "topic");
    body["avatar"] = nullable_state(room, "m.room.avatar", "url");
    body["joined_local_devices"] = body["joined_local_members"];
    body["forgotten"] = false;
    return ApiResponse::json(200, body);
  });

  router.add("GET", "/_synapse/admin/v1/rooms/{roomId}/state", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    Room& room = admin_room(state, params.at("roomId"));
    auto type = request.query_param("type");
    nlohmann::json events = nlohmann::json::array();
    for (const auto& [key, event] : room.current_state()) {
      if (!type || key.first == *type) {
        events.push_back(event->to_client(true));
      }
    }
    return ApiResponse::json(200, {{"state", events}});
  });

  router.add("GET", "/_synapse/admin/v1/rooms/{roomId}/members", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    Room& room = admin_room(state, params.at("roomId"));
    auto members = room.users_with("join");
    return ApiResponse::json(200, {{"members", members}, {"total", members.size()}});
  });

  router.add("DELETE", "/_synapse/admin/v1/rooms/{roomId}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    if (!state.find_room(params.at("roomId"))) {
      throw unknown_error(400, "Unknown room");
    }
    return ApiResponse::json(200, shutdown_room(state, params.at("roomId"), body));
  });

  router.add("DELETE", "/_synapse/admin/v2/rooms/{roomId}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    const std::string& room_id = params.at("roomId");
    if (!state.find_room(room_id)) {
      throw not_found("Unknown room id " + room_id);
    }
    DeleteTask task;
    task.delete_id = random_string(16);
    task.room_id = room_id;
    // The simulator deletes at once, so the first status poll reports completion.
    task.shutdown_room = shutdown_room(state, room_id, body);
    task.status = "complete";
    std::string delete_id = task.delete_id;
    state.delete_tasks[delete_id] = std::move(task);
    return ApiResponse::json(200, {{"delete_id", delete_id}});
  });

  router.add("GET", "/_synapse/admin/v2/rooms/delete_status/{deleteId}",
             [&hs](const ApiRequest& request, const PathParams& params) {
               auto lock = hs.read_lock();
               ServerState& state = hs.state();
               admin_requester(hs, request);
               auto it = state.delete_tasks.find(params.at("deleteId"));
               if (it == state.delete_tasks.end()) {
                 throw not_found("delete id '" + params.at("deleteId") + "' not found");
               }
               nlohmann::json body = task_json(it->second);
               return ApiResponse::json(200, body);
             });

  router.add("GET", "/_synapse/admin/v2/rooms/{roomId}/delete_status",
             [&hs](const ApiRequest& request, const PathParams& params) {
               auto lock = hs.read_lock();
               ServerState& state = hs.state();
               admin_requester(hs, request);
               nlohmann::json results = nlohmann::json::array();
               for (const auto& [id, task] : state.delete_tasks) {
                 if (task.room_id == params.at("roomId")) {
                   results.push_back(task_json(task));
                 }
               }
               if (results.empty()) {
                 throw not_found("No delete task for room_id '" + params.at("roomId") + "' found");
               }
               return ApiResponse::json(200, {{"results", results}});
             });

  router.add("POST", "/_synapse/admin/v1/join/{roomIdOrAlias}", [&hs](const ApiRequest& request,
                                                                     const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = admin_requester(hs, request);
    if (!body.contains("user_id") || !body["user_id"].is_string()) {
      throw missing_param("Missing params: ['user_id']");
    }
    std::string user_id = body["user_id"].get<std::string>();
    if (!state.is_local_user(user_id)) {
      throw unknown_error(400, "This endpoint can only be used with local users");
    }
    if (!state.find_user(user_id)) {
      throw not_found("User not found");
    }
    std::string room_id = params.at("roomIdOrAlias");
    if (!room_id.empty() && room_id[0] == '#') {
      auto it = state.aliases.find(room_id);
      if (it == state.aliases.end()) {
        throw not_found("Room alias " + room_id + " not found");
      }
      room_id = it->second.room_id;
    }
    Room* room = state.find_room(room_id);
    if (!room) {
      throw not_found("Room not found");
    }
    std::string current = room->membership_of(user_id);
    if (room->join_rule() != "public" && current != "invite" && current != "join") {
      // Synapse invites the user as the admin first; the admin must be in the
      // room with invite power, or the auth rules refuse the invite.
      if (room->membership_of(requester.user_id) != "join") {
        throw forbidden(requester.user_id + " not in room " + room_id + ".");
      }
      update_membership(state, *room, MembershipChange{requester.user_id, user_id, "invite", std::nullopt, {}});
    }
    update_membership(state, *room, MembershipChange{user_id, user_id, "join", std::nullopt, {}});
    return ApiResponse::json(200, {{"room_id", room_id}});
  });
}

}  // namespace mxsim
