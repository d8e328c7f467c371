#include "controller/render_state.h"

#include <sstream>
#include <vector>

#include "model/printable.h"

namespace controller {

namespace {

// Quotes like HCL/JSON so names with spaces or quotes read unambiguously,
// and escapes control characters (printable.h): the values are the input's,
// and the input may be hostile.
std::string quote_printable(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default: out += c;
    }
  }
  return model::printable(out) + "\"";
}

std::string bool_text(bool value) { return value ? "true" : "false"; }

// Collects "name = value" lines for one block and aligns the '='.
class Block {
 public:
  Block(std::string header) : m_header(std::move(header)) {}

  void field(std::string name, std::string value) { m_fields.emplace_back(std::move(name), std::move(value)); }

  void write(std::ostream& out) const {
    std::size_t width = 0;
    for (const auto& [name, value] : m_fields) {
      width = std::max(width, name.size());
    }
    out << m_header << " {\n";
    for (const auto& [name, value] : m_fields) {
      out << "  " << name << std::string(width - name.size(), ' ') << " = " << value << "\n";
    }
    out << "}\n";
  }

 private:
  std::string m_header;
  std::vector<std::pair<std::string, std::string>> m_fields;
};

template <typename Range>
std::string list(const Range& items, int indent) {
  if (items.empty()) {
    return "[]";
  }
  std::string pad(indent + 2, ' ');
  std::string out = "[\n";
  for (const auto& item : items) {
    out += pad + quote_printable(item) + ",\n";
  }
  return out + std::string(indent, ' ') + "]";
}

std::string levels_text(const model::PowerLevels& levels) {
  std::ostringstream out;
  out << "{\n";
  out << "    ban = " << levels.ban << ", invite = " << levels.invite << ", kick = " << levels.kick
      << ", redact = " << levels.redact << "\n";
  out << "    events_default = " << levels.events_default << ", state_default = " << levels.state_default
      << ", users_default = " << levels.users_default << "\n";
  out << "    events = {";
  for (const auto& [type, level] : levels.events) {
    out << "\n      " << quote_printable(type) << " = " << level;
  }
  out << (levels.events.empty() ? "}\n" : "\n    }\n");
  out << "    users = {";
  for (const auto& [user, level] : levels.users) {
    out << "\n      " << quote_printable(user) << " = " << level;
  }
  out << (levels.users.empty() ? "}\n" : "\n    }\n");
  out << "  }";
  return out.str();
}

void write_account(std::ostream& out, const model::Account& account) {
  Block block("account " + quote_printable(account.key));
  block.field("user_id", quote_printable(account.user_id));
  if (account.display_name) {
    block.field("display_name", quote_printable(*account.display_name));
  }
  if (account.avatar_url) {
    block.field("avatar_url", quote_printable(*account.avatar_url));
  }
  block.field("admin", bool_text(account.admin));
  block.field("status", quote_printable(account.status == model::AccountStatus::active ? "active" : "suspended"));
  if (!account.linked_accounts.empty()) {
    block.field("linked_accounts", list(account.linked_accounts, 2));
  }
  block.write(out);
}

void write_room(std::ostream& out, const model::Room& room) {
  Block block(std::string(model::to_string(room.kind)) + " " + quote_printable(room.key));
  block.field("alias", quote_printable(room.alias));
  block.field("name", quote_printable(room.name));
  if (!room.topic.empty()) {
    block.field("topic", quote_printable(room.topic));
  }
  if (room.avatar_url) {
    block.field("avatar_url", quote_printable(*room.avatar_url));
  }
  block.field("room_version", quote_printable(room.room_version));
  block.field("join_rule", quote_printable(model::to_string(room.join_rule)));
  if (!room.allow_spaces.empty()) {
    block.field("allow_spaces", list(room.allow_spaces, 2));
  }
  block.field("history_visibility", quote_printable(model::to_string(room.history_visibility)));
  if (room.guests_forbidden) {
    block.field("guest_access", quote_printable("forbidden"));
  }
  block.field("encrypted", bool_text(room.encrypted));
  if (room.is_direct) {
    block.field("is_direct", "true");
  }
  if (room.archived) {
    block.field("archived", "true");
  }
  if (room.parent) {
    block.field("parent", quote_printable(room.parent->key));
  }
  if (!room.children.empty()) {
    std::vector<std::string> keys;
    for (const model::SpaceLink& child : room.children) {
      keys.push_back(child.key);
    }
    block.field("children", list(keys, 2));
  }
  if (room.once_message) {
    block.field("once_message", quote_printable(room.once_message->body));
  }
  block.field("power_levels", levels_text(room.power_levels));
  block.field("members", list(room.members, 2));
  block.write(out);
}

}  // namespace

std::string summarize_state(const model::MatrixState& state) {
  std::size_t spaces = 0;
  std::size_t memberships = 0;
  for (const auto& [key, room] : state.rooms) {
    spaces += room.kind == model::RoomKind::space ? 1 : 0;
    memberships += room.members.size();
  }
  std::ostringstream out;
  out << state.accounts.size() << (state.accounts.size() == 1 ? " account, " : " accounts, ") << state.rooms.size()
      << (state.rooms.size() == 1 ? " room (" : " rooms (") << spaces << (spaces == 1 ? " space), " : " spaces), ")
      << memberships << (memberships == 1 ? " membership" : " memberships");
  return out.str();
}

std::string render_state_text(const model::MatrixState& state) {
  std::ostringstream out;
  for (const auto& [key, account] : state.accounts) {
    write_account(out, account);
    out << "\n";
  }
  for (const auto& [key, room] : state.rooms) {
    write_room(out, room);
    out << "\n";
  }
  out << "Desired state: " << summarize_state(state) << ".\n";
  return out.str();
}

}  // namespace controller
