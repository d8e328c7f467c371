#pragma once
// A room event as the simulator stores it, its client-format JSON, and the
// redaction algorithm of the room versions it supports.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace mxsim {

/// One persisted event. `stream` orders every event on the server (it is
/// what sync tokens count); `prev_content` is the content of the state event
/// this one replaced, reported in `unsigned` like Synapse does.
struct Event {
  std::string event_id;
  std::string room_id;
  std::string type;
  std::string sender;
  std::optional<std::string> state_key;
  nlohmann::json content = nlohmann::json::object();
  int64_t origin_server_ts = 0;
  int64_t stream = 0;
  std::optional<std::string> redacts;             ///< for m.room.redaction
  std::optional<nlohmann::json> prev_content;     ///< replaced state's content
  std::optional<std::string> replaces_state;      ///< replaced state's event id
  std::optional<nlohmann::json> redacted_because; ///< the redaction, once redacted

  /// True for state events (those with a state_key, even an empty one).
  bool is_state() const { return state_key.has_value(); }
  /// content.membership for m.room.member events, "" otherwise.
  std::string membership() const;
  /// The client-server format (ClientEvent); `room_id` is left out when
  /// `with_room_id` is false (sync timelines).
  nlohmann::json to_client(bool with_room_id = true) const;
  /// The stripped state form used for invite_state and hierarchy children_state.
  nlohmann::json to_stripped() const;
  /// The persistence form, reloaded by from_storage.
  nlohmann::json to_storage() const;
  /// Rebuilds an event saved by to_storage; throws nlohmann exceptions on bad input.
  static Event from_storage(const nlohmann::json& json);
};

/// The content kept when an event of `type` is redacted in `room_version`,
/// following the redaction algorithm (keys per type; v8+ keeps join_rules.allow,
/// v9+ keeps join_authorised_via_users_server, v11 keeps all create content).
nlohmann::json redact_content(const std::string& type, const nlohmann::json& content, const std::string& room_version);

}  // namespace mxsim
