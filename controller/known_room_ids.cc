#include "controller/known_room_ids.h"

#include <utility>
#include <vector>

#include "model/matrix_state.h"
#include "model/plan.h"

namespace controller {

KnownRoomIds::KnownRoomIds(const model::MatrixState& desired, std::map<std::string, std::string> ids)
    : m_desired(desired), m_ids(std::move(ids)) {}

// Copying only these (not every id of the instance) keeps the cost of an
// operation independent of the instance's size.
std::map<std::string, std::string> KnownRoomIds::ids_for(const model::Operation& operation) const {
  std::vector<const std::string*> keys = {&operation.room_key, &operation.link_key};
  if (auto room = m_desired.rooms.find(operation.room_key); room != m_desired.rooms.end()) {
    if (room->second.parent) {
      keys.push_back(&room->second.parent->key);
    }
    for (const model::SpaceLink& child : room->second.children) {
      keys.push_back(&child.key);
    }
    for (const std::string& space : room->second.allow_spaces) {
      keys.push_back(&space);
    }
  }
  std::map<std::string, std::string> ids;
  for (const std::string* key : keys) {
    if (auto it = m_ids.find(*key); it != m_ids.end()) {
      ids.insert(*it);
    }
  }
  return ids;
}

std::string KnownRoomIds::id_of(const std::string& key) const {
  auto it = m_ids.find(key);
  return it == m_ids.end() ? std::string() : it->second;
}

}  // namespace controller
