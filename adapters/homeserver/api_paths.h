#pragma once
// The API prefixes every homeserver request is built from, in one place.

#include <string>

namespace adapters::api {

/// The client-server API, v3 (spec v1.1 and later).
inline const std::string k_client = "/_matrix/client/v3";
/// Synapse's admin API, versions 1 and 2 (Synapse's admin API docs).
inline const std::string k_admin_v1 = "/_synapse/admin/v1";
inline const std::string k_admin_v2 = "/_synapse/admin/v2";

}  // namespace adapters::api
