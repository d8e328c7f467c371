#pragma once
// A room's state as the homeserver reports it (state events from /sync or
// GET /rooms/{id}/state) → the model's ObservedRoom. Events are read one at
// a time, so a caller can feed them from wherever they are (a /sync answer
// being parsed, a stored snapshot) without first gathering them into one
// document. Field names follow the spec's event schemas
// (tests/spec/matrix-spec-v1.16/data/event-schemas/ holds those the tests use).

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "model/observed_state.h"
#include "model/settings.h"

namespace adapters {

/// `m.room.power_levels` content → PowerLevels, with the spec's defaults for
/// absent keys and string levels ("50", legal in old rooms) parsed. Keys it
/// has no field for go, unchanged, into `unmanaged`, so a write keeps them.
model::PowerLevels parse_power_levels(const nlohmann::json& content);

/// Builds one ObservedRoom from its current state events, given in any order
/// with each (type, state_key) at most once. Events that are not objects or
/// have no object content are ignored.
class RoomStateReader {
 public:
  /// `key_of` maps room ids to keys for allow lists and space links (ids
  /// it does not know are kept as the raw id; resolve_room_links can map
  /// them later). Both references must outlive the reader.
  RoomStateReader(std::string room_id, const std::map<std::string, std::string>& key_of,
                  const model::Settings& settings);

  /// Reads one state event (with type, state_key, content, sender).
  void add(const nlohmann::json& event);

  /// The room read so far; `marker_key` is empty when there was no marker or
  /// it belongs to another controller instance. Children come sorted by key.
  model::ObservedRoom finish() &&;

 private:
  const std::map<std::string, std::string>& m_key_of;
  const model::Settings& m_settings;
  std::string m_archive_type;
  model::ObservedRoom m_observed;
};

/// A room's current state events (an array) → ObservedRoom; see
/// RoomStateReader. Not an array: a room with nothing but its id.
model::ObservedRoom parse_room_state(const std::string& room_id, const nlohmann::json& state_events,
                                     const std::map<std::string, std::string>& key_of,
                                     const model::Settings& settings);

/// Replaces the raw room ids left in `observed`'s allow list and space links
/// by their keys from `key_of` (for rooms whose key was learnt after the room
/// was read, from another room's marker), and chooses its parent again among
/// the links. Ids `key_of` does not know stay.
void resolve_room_links(model::ObservedRoom& observed, const std::map<std::string, std::string>& key_of);

}  // namespace adapters
