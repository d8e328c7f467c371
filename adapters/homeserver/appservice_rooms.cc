#include "adapters/homeserver/appservice_rooms.h"

#include <set>
#include <vector>

namespace adapters {

model::Result<BotRooms> read_managed_rooms(MatrixClient& client, const model::MatrixState& desired,
                                           const std::map<std::string, std::string>& room_ids,
                                           const std::map<std::string, std::string>& snapshots,
                                           const model::Settings& settings, AliasLookups& aliases) {
  BotRooms out;
  std::set<std::string> marked;  // keys some room read carries the marker of
  auto read = [&](const std::string& room_id) -> model::Result<void> {
    if (out.rooms.count(room_id)) {
      return {};
    }
    auto state = fetch_room_state(client, room_id);
    if (!state) {
      return tl::unexpected(state.error());
    }
    if (!*state) {
      return {};  // deleted, or the bot was removed: not ours to read
    }
    BotRoom room = read_bot_room(room_id, **state, settings);
    if (!room.observed.marker_key.empty()) {
      marked.insert(room.observed.marker_key);
    }
    out.rooms.emplace(room_id, std::move(room));
    return {};
  };
  // Each id once, in id order, as /sync would list them; several at once.
  std::set<std::string> unique;
  for (const auto& [key, room_id] : room_ids) {
    unique.insert(room_id);
  }
  const std::vector<std::string> known(unique.begin(), unique.end());
  auto fresh = read_rooms_afresh(client, known, settings, false);
  if (!fresh) {
    return tl::unexpected(fresh.error());
  }
  for (std::size_t i = 0; i < known.size(); ++i) {
    if (std::optional<FreshRoom>& room = (*fresh)[i]) {  // else deleted, or the bot was removed
      if (!room->room.observed.marker_key.empty()) {
        marked.insert(room->room.observed.marker_key);
      }
      out.rooms.emplace(known[i], std::move(room->room));
    }
  }
  // Desired rooms the store does not know (a first pass, a lost store, a
  // crash before the room id was saved): their alias says where they are.
  for (const auto& [key, want] : desired.rooms) {
    if (marked.count(key) || want.alias.empty()) {
      continue;
    }
    auto holder = resolve_alias(client, want.alias, aliases);
    if (!holder) {
      return tl::unexpected(holder.error());
    }
    if (*holder) {
      if (auto done = read(**holder); !done) {
        return tl::unexpected(done.error());
      }
    }
  }
  for (const auto& [room_id, text] : snapshots) {
    out.changed_snapshots[room_id] = std::nullopt;
  }
  return out;
}

}  // namespace adapters
