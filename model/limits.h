#pragma once
// Limits the homeserver enforces on what mxctl writes, checked while the
// input is validated: a value that cannot be written must stop the pass
// before its first write, never fail half-way through it. Sources:
// - Matrix spec v1.16, appendices "User Identifiers" and "Room Aliases": a
//   user ID or room alias, sigil and server name included, is at most 255
//   bytes. Synapse 1.67: MAX_USERID_LENGTH, MAX_ALIAS_LENGTH (api/constants.py).
// - Matrix spec v1.16, "Size limits": a whole event, as a PDU in canonical
//   JSON with its signatures, is at most 65536 bytes. Synapse 1.67 checks
//   every event it creates (event_auth._check_size_limits, MAX_PDU_SIZE).
// - Synapse 1.67, handlers/profile.py: a display name is at most 256
//   characters (MAX_DISPLAYNAME_LEN) and an avatar URL at most 1000
//   (MAX_AVATAR_URL_LEN), on the profile and on membership events. Neither
//   the spec nor Synapse limits room names or topics beyond the event size.
//
// Where each desired value is written, and what is checked for it:
//   display name        profile, m.room.member         256 characters
//   avatar URL          profile, m.room.member, m.room.avatar   1000 characters
//   localpart           user ID (state key of m.room.member)    255 bytes
//   key, aliasPrefix    canonical alias (createRoom)   255 bytes
//   room name           m.room.name, with the suffixes compile adds
//                       (" General", " Discussion", " (archived)")  event size
//   topic, request      m.room.topic, m.room.name      event size
//   coordination message  m.room.message               event size
//   members' levels     m.room.power_levels `users`    event size
// createRoom's body is not one event: the homeserver makes each of the events
// above from it, and its request limit (Synapse: 200 events' worth) is far
// above them.

#include <cstddef>
#include <string_view>

#include "model/diagnostic.h"

namespace model {

struct Settings;
struct Topology;

/// The largest event a homeserver accepts (bytes of canonical JSON).
inline constexpr std::size_t k_max_event_bytes = 65536;
/// The longest user ID, room alias, event type or state key (bytes).
inline constexpr std::size_t k_max_identifier_bytes = 255;
/// Synapse's longest display name (characters, i.e. code points).
inline constexpr std::size_t k_max_display_name_chars = 256;
/// Synapse's longest avatar URL (characters).
inline constexpr std::size_t k_max_avatar_url_chars = 1000;
/// A bound on everything in an event but its content: room_id, sender,
/// origin, type and state_key at 255 bytes each, 20 prev_events and 10
/// auth_events ids (48 bytes each with punctuation), hashes, one signature
/// (server name, key id, 86 bytes), depth, origin_server_ts and unsigned
/// (age_ts, replaces_state) come to about 3,600 bytes; 4 KiB leaves room.
inline constexpr std::size_t k_event_envelope_bytes = 4096;
/// The largest event content mxctl writes: what is left of an event.
inline constexpr std::size_t k_max_content_bytes = k_max_event_bytes - k_event_envelope_bytes;

/// Bytes of `text` as a canonical JSON string, quotes included: UTF-8 as is,
/// '"' and '\\' escaped in two bytes, controls counted as six ("\u001b").
std::size_t json_string_bytes(std::string_view text);

/// Problems with the topology's human-readable texts, wherever they are
/// written: names, topics, display names and requests that are not UTF-8
/// or contain control characters or bidirectional overrides (coordination
/// messages may keep line breaks); display names over 256 characters,
/// avatar URLs over 1000; names, topics and messages whose event would be
/// over k_max_content_bytes. Needs no settings; validate_topology runs it.
Diagnostics check_texts(const Topology& topology);

/// Problems only the server's naming settings reveal: user IDs and
/// canonical aliases over 255 bytes, and power levels whose content would be
/// over k_max_content_bytes (a community or council with many members above
/// level 0). With an empty server name the bounds are computed without it,
/// so what is reported is certainly too long.
Diagnostics check_limits(const Topology& topology, const Settings& settings);

}  // namespace model
