#pragma once
// How managed objects are named on the homeserver: MXIDs for users, stable
// keys for rooms, the canonical aliases derived from those keys, and the
// transaction ids of messages that must be sent only once. Everything that
// identifies a managed object across passes (and across a lost state store)
// is derived here and nowhere else, so the compiler, the observer and the
// diff can never disagree on a name.

#include <string>
#include <string_view>

namespace model {

struct Settings;
struct User;

/// Full MXID for a localpart on our server: "@alice:example.org".
/// The localpart is used as given (no case folding or validation).
std::string user_id_for(std::string_view localpart, const Settings& settings);

/// Full MXID of a topology user: its `localpart`, or its `name` when the
/// localpart is empty (the loader normally fills it; this keeps the compiler
/// total for hand-built topologies).
std::string user_id_for(const User& user, const Settings& settings);

/// Key of a community's space: "community/<name>".
std::string community_space_key(std::string_view community);

/// Key of a community's general room: "community/<name>/general".
std::string community_general_key(std::string_view community);

/// Key of a council's space: "council/<name>".
std::string council_space_key(std::string_view council);

/// Key of a council's discussion room: "council/<name>/discussion".
std::string council_discussion_key(std::string_view council);

/// Key of a coordination DM: "dm/<name>".
std::string coordination_room_key(std::string_view name);

/// The kind of topology object a room key was made for, from its first
/// segment: "community/..." a community's, "council/..." a council's, "dm/..."
/// a coordination room; `other` for any other key.
enum class RoomKeyKind { community, council, coordination, other };

/// The kind of the room key `room_key` (see RoomKeyKind).
RoomKeyKind room_key_kind(std::string_view room_key);

/// A room key with every '/' replaced by '.': "community/a/general" →
/// "community.a.general". Reversible for our keys because topology names are
/// `[a-z0-9][a-z0-9-]*` and never contain '.'.
std::string dotted_key(std::string_view room_key);

/// The localpart of a room's canonical alias (what createRoom's
/// `room_alias_name` takes): alias_prefix + dotted_key(room_key),
/// e.g. "mxctl.community.riverside.general".
std::string alias_localpart_for(std::string_view room_key, const Settings& settings);

/// Canonical alias for a room key: "#" + alias_localpart_for(key) + ":" + server_name,
/// e.g. "community/riverside/general" → "#mxctl.community.riverside.general:example.org".
std::string alias_for(std::string_view room_key, const Settings& settings);

/// What a plan address names: "room.<key>" a room, "account.<key>" an
/// account; anything else is no address of ours.
enum class AddressKind { room, account, none };

/// The address of the room `key` in plans and the state store: "room.<key>".
std::string room_address(std::string_view key);

/// The address of the account `key`: "account.<key>".
std::string account_address(std::string_view key);

/// What `address` names; `none` for text that is neither address.
AddressKind address_kind(std::string_view address);

/// The key in `address` ("room.community/a" → "community/a"); empty when
/// address_kind is `none`.
std::string_view address_key(std::string_view address);

/// Transaction id of a message sent once into a room, derived only from the
/// room key and what the message is for: "mxctl." + dotted_key + "." + purpose,
/// e.g. ("dm/request-8841", "context") → "mxctl.dm.request-8841.context".
/// Deterministic so a retried send is deduplicated by the homeserver; it does
/// not depend on settings so changing the alias prefix never re-sends.
std::string once_txn_id(std::string_view room_key, std::string_view purpose);

}  // namespace model
