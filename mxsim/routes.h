#pragma once
// The route tables of each API area, registered by the Homeserver at start.
// Each function adds its area's endpoints to `router`; handlers capture `hs`.

#include "mxsim/request.h"
#include "mxsim/router.h"

namespace mxsim {

class Homeserver;

/// /versions, login, logout, register, whoami, capabilities.
void add_client_account_routes(Homeserver& hs, Router& router);
/// Profiles, account data and filters.
void add_client_profile_routes(Homeserver& hs, Router& router);
/// The room alias directory and room directory visibility.
void add_client_directory_routes(Homeserver& hs, Router& router);
/// createRoom, room upgrades, state, send, redact, members, joined_rooms, hierarchy.
void add_client_room_routes(Homeserver& hs, Router& router);
/// invite, join, leave, kick, ban, unban, forget.
void add_client_membership_routes(Homeserver& hs, Router& router);
/// GET /sync.
void add_sync_routes(Homeserver& hs, Router& router);
/// /_synapse/admin/... endpoints (users here, rooms via add_admin_room_routes).
void add_admin_routes(Homeserver& hs, Router& router);
/// Admin login-as-user, override_ratelimit, joined_rooms, username_available.
void add_admin_user_tool_routes(Homeserver& hs, Router& router);
/// /_synapse/admin/v1|v2/rooms... and the force-join endpoint.
void add_admin_room_routes(Homeserver& hs, Router& router);
/// Answers a request under /_mxsim (journal, stats, faults, rate limits); not journaled itself.
ApiResponse handle_control_request(Homeserver& hs, const ApiRequest& request);

}  // namespace mxsim
