// Client-server API: the room alias directory (resolve, create, delete,
// with appservice alias queries) and room directory visibility.

#include "mxsim/auth_rules.h"
#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/room_ops.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

bool can_send_state(const Room& room, const std::string& user_id, const std::string& type) {
  return user_power_level(room, user_id) >= send_level(room, type, true);
}

void add_directory_routes(Homeserver& hs, Router& router) {
  router.add_client("GET", "/directory/room/{roomAlias}", [&hs](const ApiRequest&, const PathParams& params) {
    const std::string& alias = params.at("roomAlias");
    if (!parse_room_alias(alias)) {
      throw invalid_param("Expected room alias, got " + alias);
    }
    std::optional<AppService> query_target;
    {
      auto lock = hs.read_lock();
      ServerState& state = hs.state();
      auto it = state.aliases.find(alias);
      if (it != state.aliases.end()) {
        return ApiResponse::json(200, {{"room_id", it->second.room_id}, {"servers", {state.server_name}}});
      }
      for (const auto& service : state.appservices) {
        if (service.interested_in_alias(alias) && !service.url.empty()) {
          query_target = service;
          break;
        }
      }
    }
    // Outside the lock: the appservice creates the room through our own API.
    if (query_target && hs.appservice_client().query_alias(*query_target, alias)) {
      auto lock = hs.read_lock();
      ServerState& state = hs.state();
      auto it = state.aliases.find(alias);
      if (it != state.aliases.end()) {
        return ApiResponse::json(200, {{"room_id", it->second.room_id}, {"servers", {state.server_name}}});
      }
    }
    throw not_found("Room alias " + alias + " not found");
  });

  router.add_client("PUT", "/directory/room/{roomAlias}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    const std::string& alias = params.at("roomAlias");
    auto parsed = parse_room_alias(alias);
    if (!parsed || !is_valid_alias_localpart(parsed->localpart)) {
      throw invalid_param("Room alias invalid");
    }
    if (parsed->server != state.server_name) {
      throw unknown_error(400, "Room alias must be local");
    }
    if (!body.contains("room_id") || !body["room_id"].is_string()) {
      throw missing_param("Missing parameter: room_id");
    }
    std::string room_id = body["room_id"].get<std::string>();
    if (!requester.appservice_id.empty()) {
      const AppService* service = state.appservice_by_id(requester.appservice_id);
      if (service && !service->interested_in_alias(alias)) {
        throw MatrixError(400, "M_EXCLUSIVE", "This application service has not reserved this kind of alias.");
      }
    } else if (state.exclusive_alias_owner(alias)) {
      throw MatrixError(400, "M_EXCLUSIVE", "This alias is reserved by an application service.");
    }
    Room* room = state.find_room(room_id);
    if (!room || room->membership_of(requester.user_id) != "join") {
      throw forbidden("You must be in the room to create an alias for it");
    }
    if (state.aliases.count(alias)) {
      throw MatrixError(409, "M_UNKNOWN", "Room alias " + alias + " already exists");
    }
    state.aliases[alias] = AliasEntry{room_id, requester.user_id};
    state.advance_stream();
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("DELETE", "/directory/room/{roomAlias}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    const std::string& alias = params.at("roomAlias");
    auto it = state.aliases.find(alias);
    if (it == state.aliases.end()) {
      throw not_found("Room alias " + alias + " not found");
    }
    bool allowed = it->second.creator == requester.user_id || requester.admin;
    if (!allowed) {
      if (Room* room = state.find_room(it->second.room_id)) {
        allowed = room->membership_of(requester.user_id) == "join" &&
                  can_send_state(*room, requester.user_id, "m.room.canonical_alias");
      }
    }
    if (!allowed) {
      throw forbidden("You don't have permission to delete the alias.");
    }
    remove_alias(state, alias, requester.user_id);
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("GET", "/directory/list/room/{roomId}", [&hs](const ApiRequest&, const PathParams& params) {
    auto lock = hs.read_lock();
    Room* room = hs.state().find_room(params.at("roomId"));
    if (!room) {
      throw not_found("Unknown room");
    }
    return ApiResponse::json(200, {{"visibility", room->published() ? "public" : "private"}});
  });

  router.add_client("PUT", "/directory/list/room/{roomId}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    Room* room = state.find_room(params.at("roomId"));
    if (!room) {
      throw not_found("Unknown room");
    }
    if (!requester.admin && !(room->membership_of(requester.user_id) == "join" &&
                              can_send_state(*room, requester.user_id, "m.room.canonical_alias"))) {
      throw forbidden("This user is not permitted to publish rooms to the room list");
    }
    std::string visibility = body.value("visibility", "public");
    if (visibility != "public" && visibility != "private") {
      throw invalid_param("Invalid visibility value");
    }
    room->set_published(visibility == "public");
    state.advance_stream();
    return ApiResponse::json(200, nlohmann::json::object());
  });
}

}  // namespace

void add_client_directory_routes(Homeserver& hs, Router& router) { add_directory_routes(hs, router); }

}  // namespace mxsim
