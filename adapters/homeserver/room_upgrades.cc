#include "adapters/homeserver/room_upgrades.h"

namespace adapters {

UpgradedRooms find_upgrades(const std::map<std::string, BotRoom>& rooms) {
  UpgradedRooms out;
  for (const auto& [room_id, read_room] : rooms) {
    const model::ObservedRoom& room = read_room.observed;
    if (!room.marker_key.empty() && room.replacement_room) {
      out.retired[room_id] = RetiredRoom{room.marker_key, *room.replacement_room};
    }
  }
  // A replacement is taken over only when the two rooms name each other:
  // the tombstone needs power in the managed room, and the predecessor is
  // fixed when the new room is created.
  for (const auto& [room_id, retired] : out.retired) {
    auto successor = rooms.find(retired.replacement);
    if (successor != rooms.end() && successor->second.observed.marker_key.empty() &&
        successor->second.observed.predecessor == room_id) {
      out.successors[retired.replacement] = retired.key;
    }
  }
  return out;
}

}  // namespace adapters
