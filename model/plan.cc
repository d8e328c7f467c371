#include "model/plan.h"

#include <algorithm>

namespace model {

const char* event_type(StateField field) {
  switch (field) {
    case StateField::name: return "m.room.name";
    case StateField::topic: return "m.room.topic";
    case StateField::avatar: return "m.room.avatar";
    case StateField::join_rules: return "m.room.join_rules";
    case StateField::history_visibility: return "m.room.history_visibility";
    case StateField::guest_access: return "m.room.guest_access";
    case StateField::encryption: return "m.room.encryption";
    case StateField::power_levels: return "m.room.power_levels";
    case StateField::space_child: return "m.space.child";
    case StateField::space_parent: return "m.space.parent";
    // The real type is `<marker type>.archive` (settings); this is the default's.
    case StateField::archive_record: return "org.mxctl.managed.archive";
    case StateField::marker: return "org.mxctl.managed";
    case StateField::retired_child: return "m.space.child";
  }
  return "unknown";
}

const char* to_string(Operation::Kind kind) {
  switch (kind) {
    case Operation::Kind::create_account: return "create_account";
    case Operation::Kind::update_account: return "update_account";
    case Operation::Kind::create_room: return "create_room";
    case Operation::Kind::set_state: return "set_state";
    case Operation::Kind::invite: return "invite";
    case Operation::Kind::kick: return "kick";
    case Operation::Kind::send_message: return "send_message";
    case Operation::Kind::set_direct: return "set_direct";
    case Operation::Kind::delete_room: return "delete_room";
    case Operation::Kind::suspend_account: return "suspend_account";
    case Operation::Kind::reactivate_account: return "reactivate_account";
    case Operation::Kind::upgrade_room: return "upgrade_room";
    case Operation::Kind::join_replacement: return "join_replacement";
  }
  return "unknown";
}

std::string describe(const Operation& operation) {
  switch (operation.kind) {
    case Operation::Kind::create_account: return "create account " + operation.account_key;
    case Operation::Kind::update_account: return "update account " + operation.account_key;
    case Operation::Kind::create_room: return "create room " + operation.room_key;
    case Operation::Kind::set_state: {
      std::string text = std::string("set ") + event_type(operation.field) + " in " + operation.room_key;
      if (!operation.link_key.empty()) {
        text += " (" + operation.link_key + ")";
      } else if (operation.field == StateField::retired_child) {
        text = "withdraw m.space.child " + operation.room_id + " (an upgraded room) from " + operation.room_key;
      }
      return text;
    }
    case Operation::Kind::invite: return "invite " + operation.user_id + " to " + operation.room_key;
    case Operation::Kind::kick: return "kick " + operation.user_id + " from " + operation.room_key;
    case Operation::Kind::send_message: return "send the context message to " + operation.room_key;
    case Operation::Kind::set_direct: return "mark " + operation.room_key + " as a direct chat for " + operation.user_id;
    case Operation::Kind::delete_room: return "delete room " + operation.room_key;
    case Operation::Kind::suspend_account: return "suspend account " + operation.account_key;
    case Operation::Kind::reactivate_account: return "reactivate account " + operation.account_key;
    case Operation::Kind::upgrade_room: return "upgrade room " + operation.room_key;
    case Operation::Kind::join_replacement:
      return "join " + operation.room_id + ", the replacement of " + operation.room_key;
  }
  return "unknown operation";
}

std::size_t Plan::error_count() const { return count(ResourceChange::Action::error); }

std::size_t Plan::count(ResourceChange::Action action) const {
  return static_cast<std::size_t>(
      std::count_if(changes.begin(), changes.end(), [&](const ResourceChange& c) { return c.action == action; }));
}

}  // namespace model
