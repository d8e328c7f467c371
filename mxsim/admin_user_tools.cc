// Synapse admin API, per-user tools: login as a user, rate-limit
// overrides, a user's joined rooms and account data, and username availability.

#include "mxsim/admin_common.h"
#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/routes.h"

namespace mxsim {

void add_admin_user_tool_routes(Homeserver& hs, Router& router) {
  router.add("POST", "/_synapse/admin/v1/users/{userId}/login", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Only local users can be logged in as");
    if (user_id == requester.user_id) {
      throw unknown_error(400, "Cannot use admin API to login as self");
    }
    std::optional<int64_t> valid_until;
    if (body.contains("valid_until_ms") && !body["valid_until_ms"].is_null()) {
      if (!body["valid_until_ms"].is_number_integer()) {
        throw invalid_param("'valid_until_ms' parameter must be an int");
      }
      valid_until = body["valid_until_ms"].get<int64_t>();
      if (*valid_until < now_ms()) {
        throw unknown_error(400, "'valid_until_ms' is in the past");
      }
    }
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User not found");
    }
    if (user->deactivated) {
      throw unknown_error(400, "Cannot create access token for deactivated user");
    }
    std::string token = state.mint_token(user_id, "", true, valid_until);
    return ApiResponse::json(200, {{"access_token", token}});
  });

  router.add("GET", "/_synapse/admin/v1/users/{userId}/joined_rooms",
             [&hs](const ApiRequest& request, const PathParams& params) {
               auto lock = hs.read_lock();
               ServerState& state = hs.state();
               admin_requester(hs, request);
               nlohmann::json rooms = nlohmann::json::array();
               for (const auto& [room_id, room] : state.rooms) {
                 if (room->membership_of(params.at("userId")) == "join") {
                   rooms.push_back(room_id);
                 }
               }
               return ApiResponse::json(200, {{"joined_rooms", rooms}, {"total", rooms.size()}});
             });

  // Synapse's AccountDataRestServlet: 400 for remote users, 404 for unknown ones.
  router.add("GET", "/_synapse/admin/v1/users/{userId}/accountdata",
             [&hs](const ApiRequest& request, const PathParams& params) {
               auto lock = hs.read_lock();
               ServerState& state = hs.state();
               admin_requester(hs, request);
               std::string user_id = local_user_param(state, params.at("userId"), "Can only look up local users");
               const User* user = state.find_user(user_id);
               if (!user) {
                 throw not_found("User not found");
               }
               nlohmann::json global = nlohmann::json::object();
               for (const auto& [type, content] : user->account_data) {
                 global[type] = content;
               }
               nlohmann::json rooms = nlohmann::json::object();
               for (const auto& [room_id, types] : user->room_account_data) {
                 for (const auto& [type, content] : types) {
                   rooms[room_id][type] = content;
                 }
               }
               return ApiResponse::json(200, {{"account_data", {{"global", global}, {"rooms", rooms}}}});
             });

  router.add("GET", "/_synapse/admin/v1/username_available", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string localpart = request.query_param("username").value_or("");
    if (auto problem = localpart_problem(localpart, state.server_name)) {
      throw MatrixError(400, "M_INVALID_USERNAME", *problem);
    }
    if (state.find_user(state.local_user_id(localpart))) {
      throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
    }
    return ApiResponse::json(200, {{"available", true}});
  });

  const std::string ratelimit = "/_synapse/admin/v1/users/{userId}/override_ratelimit";
  router.add("GET", ratelimit, [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Can only look up local users");
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User does not exist");
    }
    if (!user->ratelimit_override) {
      return ApiResponse::json(200, nlohmann::json::object());
    }
    return ApiResponse::json(200, {{"messages_per_second", user->ratelimit_override->messages_per_second},
                                   {"burst_count", user->ratelimit_override->burst_count}});
  });
  router.add("POST", ratelimit, [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Only local users can be ratelimited");
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User does not exist");
    }
    RateOverride value;
    for (const char* key : {"messages_per_second", "burst_count"}) {
      if (body.contains(key)) {
        if (!body[key].is_number_integer() || body[key].get<int64_t>() < 0) {
          throw invalid_param(std::string(key) + " must be a positive integer");
        }
      }
    }
    value.messages_per_second = body.value("messages_per_second", int64_t{0});
    value.burst_count = body.value("burst_count", int64_t{0});
    user->ratelimit_override = value;
    ++state.revision;
    return ApiResponse::json(200, {{"messages_per_second", value.messages_per_second},
                                   {"burst_count", value.burst_count}});
  });
  router.add("DELETE", ratelimit, [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Only local users can be ratelimited");
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User does not exist");
    }
    user->ratelimit_override.reset();
    ++state.revision;
    return ApiResponse::json(200, nlohmann::json::object());
  });
}

}  // namespace mxsim
