#pragma once
// Grammar checks for the identifiers mxctl writes or passes to a homeserver,
// from the Matrix specification v1.16 appendices ("Identifier grammar",
// "Server name", "Matrix content (mxc://) URIs"), plus the grammar of the
// manifest keys that room keys and aliases are derived from.
//
// Each check returns nothing when the text is valid, else a short reason in
// lower case ("contains \"B\"; only a-z, 0-9, ...") that callers put after a
// subject: `user "bob": invalid localpart "Bob": <reason>`.

#include <optional>
#include <string>
#include <string_view>

namespace model {

/// Which user ID localparts are acceptable.
enum class UserIdGrammar {
  /// What a server may create today: a-z 0-9 . _ = - / +.
  current,
  /// What servers and clients must still accept from elsewhere: any printable
  /// ASCII except ":" (the spec's "historical user IDs"). Used for accounts on
  /// other homeservers, which mxctl does not create.
  historical,
};

/// Why `localpart` is not a valid user localpart under `grammar` (empty, or a
/// character outside the allowed set), or nothing when it is valid.
std::optional<std::string> check_localpart(std::string_view localpart, UserIdGrammar grammar = UserIdGrammar::current);

/// Why `server_name` is not a valid server name (`hostname [":" port]`, where
/// hostname is a DNS name, an IPv4 address or a bracketed IPv6 literal and the
/// port is 1 to 5 digits no greater than 65535), or nothing when valid.
std::optional<std::string> check_server_name(std::string_view server_name);

/// Why `user_id` is not a valid full user ID `@localpart:server_name` of at
/// most 255 bytes (localpart checked under `grammar`), or nothing when valid.
std::optional<std::string> check_user_id(std::string_view user_id, UserIdGrammar grammar = UserIdGrammar::current);

/// Why `uri` is not a valid content URI `mxc://<server-name>/<media-id>` with
/// a media id of [A-Za-z0-9_-]+, or nothing when valid.
std::optional<std::string> check_mxc_uri(std::string_view uri);

/// Why `key` is not a valid manifest key ([a-z0-9][a-z0-9-]*, the pattern of
/// `metadata.name`), or nothing when valid.
std::optional<std::string> check_key(std::string_view key);

}  // namespace model
