#include "model/matrix_state.h"

namespace model {

const char* to_string(RoomKind kind) {
  switch (kind) {
    case RoomKind::room: return "room";
    case RoomKind::space: return "space";
  }
  return "unknown";
}

const char* to_string(JoinRule rule) {
  switch (rule) {
    case JoinRule::invite: return "invite";
    case JoinRule::restricted: return "restricted";
    case JoinRule::public_: return "public";
  }
  return "unknown";
}

const char* to_string(HistoryVisibility visibility) {
  switch (visibility) {
    case HistoryVisibility::invited: return "invited";
    case HistoryVisibility::joined: return "joined";
    case HistoryVisibility::shared: return "shared";
    case HistoryVisibility::world_readable: return "world_readable";
  }
  return "unknown";
}

int PowerLevels::level_of(const std::string& user_id) const {
  auto it = users.find(user_id);
  return it == users.end() ? users_default : it->second;
}

}  // namespace model
