#pragma once
// A person's private sync room, found by its marker or created, through
// requests made as the account: with its own token, or by the appservice
// masquerading as it.

#include <optional>
#include <string>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/homeserver/sync_account.h"
#include "model/result.h"

namespace adapters {

/// Requests as `user_id`: `client` holds the account's own token (`query`
/// empty), or is the appservice's, with `query` "?user_id=…" appended to
/// every path.
struct ActingAs {
  MatrixClient& client;
  std::string user_id;
  std::string query;
};

/// The first of the account's joined rooms carrying `marker_type` as state;
/// nothing when none does. Errors name the request that failed.
model::Result<std::optional<std::string>> find_sync_room(const ActingAs& as, const std::string& marker_type);

/// Creates the account's private, encrypted, non-federating
/// trusted_private_chat room carrying `request.marker_type`, the account its
/// only member, and reads the marker back before answering the room id.
model::Result<std::string> create_sync_room(const ActingAs& as, const SyncAccountRequest& request);

}  // namespace adapters
