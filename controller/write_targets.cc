#include "controller/write_targets.h"

#include "model/plan.h"

namespace controller {

std::vector<std::string> rooms_written(const model::Operation& operation) {
  using Kind = model::Operation::Kind;
  std::vector<std::string> rooms;
  auto add = [&rooms](const std::string& key) {
    if (!key.empty() && (rooms.empty() || rooms.front() != key)) {
      rooms.push_back(key);
    }
  };
  switch (operation.kind) {
    case Kind::create_room:
    case Kind::set_state:
    case Kind::invite:
    case Kind::kick:
    case Kind::send_message:
    case Kind::upgrade_room:
    case Kind::join_replacement: add(operation.room_key); break;
    case Kind::delete_room:
      add(operation.room_key);
      add(operation.link_key);
      break;
    case Kind::set_direct:
    case Kind::create_account:
    case Kind::update_account:
    case Kind::suspend_account:
    case Kind::reactivate_account: break;
  }
  return rooms;
}

std::vector<std::string> exclusive_targets(const model::Operation& operation) {
  std::vector<std::string> targets = rooms_written(operation);
  if (operation.kind == model::Operation::Kind::set_direct && !operation.user_id.empty()) {
    targets.push_back("m.direct " + operation.user_id);
  }
  return targets;
}

std::string invited_server(const model::Operation& operation) {
  if (operation.kind != model::Operation::Kind::invite) {
    return {};
  }
  const std::size_t colon = operation.user_id.find(':');
  return colon == std::string::npos ? std::string() : operation.user_id.substr(colon + 1);
}

}  // namespace controller
