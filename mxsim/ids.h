#pragma once
// Matrix identifiers: parsing and validating user ids and room aliases the way
// Synapse does, and minting fresh room ids, event ids and tokens.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mxsim {

/// A parsed "@localpart:server" or "#alias:server".
struct QualifiedId {
  std::string localpart;
  std::string server;
};

/// Splits "@localpart:server" at the first ':'; nullopt when the sigil or the
/// colon is missing or either side is empty.
std::optional<QualifiedId> parse_user_id(std::string_view user_id);
/// Splits "#alias:server"; nullopt when malformed.
std::optional<QualifiedId> parse_room_alias(std::string_view alias);
/// The reason Synapse gives for refusing `localpart` at registration
/// (characters outside a-z 0-9 =_-./+, empty, leading '_', too long), or
/// nullopt when it is acceptable. Errcode is M_INVALID_USERNAME.
std::optional<std::string> localpart_problem(std::string_view localpart, std::string_view server_name);
/// True when `name` may follow '#' in a local alias (no ':' or whitespace, not empty).
bool is_valid_alias_localpart(std::string_view name);

/// `length` random characters from [A-Za-z0-9] (thread-safe).
std::string random_string(size_t length);
/// A fresh "!xxxxxxxxxxxxxxxxxx:server" room id.
std::string new_room_id(const std::string& server_name);
/// A fresh event id in the room-version-4+ format ("$" + 43 url-safe chars).
std::string new_event_id();
/// Milliseconds since the Unix epoch.
int64_t now_ms();

}  // namespace mxsim
