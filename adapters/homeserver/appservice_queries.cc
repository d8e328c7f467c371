#include "adapters/homeserver/appservice_queries.h"

#include "adapters/redact.h"

namespace adapters {

namespace {

// Spaces in spaces, as deep as a desired state may nest them and more.
constexpr int k_max_depth = 8;

}  // namespace

void AppserviceQueries::note(const std::string& line) const {
  if (m_note) {
    m_note(line);
  }
}

QueryAnswer AppserviceQueries::user(const std::string& user_id) {
  auto desired = m_snapshot.desired();
  if (!desired) {
    return QueryAnswer::absent;
  }
  for (const auto& [key, account] : desired->accounts) {
    if (account.user_id != user_id) {
      continue;
    }
    model::Operation create;
    create.kind = model::Operation::Kind::create_account;
    create.account_key = key;
    ExecutionContext context;
    context.desired = desired.get();
    if (auto made = m_port.execute(create, context); !made) {
      note("the homeserver asked for " + user_id + ", which cannot be registered: " +
           redact(made.error().message, {}));
      return QueryAnswer::failed;
    }
    note("the homeserver asked for " + user_id + ": registered account." + key);
    return QueryAnswer::exists;
  }
  return QueryAnswer::absent;
}

QueryAnswer AppserviceQueries::room_alias(const std::string& alias) {
  auto desired = m_snapshot.desired();
  if (!desired) {
    return QueryAnswer::absent;
  }
  for (const auto& [key, room] : desired->rooms) {
    if (room.alias != alias) {
      continue;
    }
    // A room mxctl knows under another id lost its alias: making a second
    // room with the key would split it; the pass looks after the first.
    if (m_snapshot.room_ids().count(key) > 0) {
      note("the homeserver asked for " + alias + ", which room." + key + " had; the next pass looks at it");
      return QueryAnswer::absent;
    }
    auto made = ensure_room(*desired, key, 0);
    if (!made) {
      // Someone (a pass, another query) made it meanwhile: it exists.
      if (made.error().errcode == "M_ROOM_IN_USE") {
        return QueryAnswer::exists;
      }
      note("the homeserver asked for " + alias + ", which cannot be created: " + redact(made.error().message, {}));
      return QueryAnswer::failed;
    }
    return QueryAnswer::exists;
  }
  return QueryAnswer::absent;
}

model::Result<std::string> AppserviceQueries::ensure_room(const model::MatrixState& desired, const std::string& key,
                                                          int depth) {
  auto room = desired.rooms.find(key);
  if (room == desired.rooms.end()) {
    return model::fail(model::Error::Kind::not_found, "room." + key + " is not in the desired state");
  }
  ExecutionContext context;
  context.desired = &desired;
  context.room_ids = m_snapshot.room_ids();
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    context.room_ids.insert(m_made.begin(), m_made.end());
  }
  const std::optional<model::SpaceLink>& parent = room->second.parent;
  if (parent && context.room_ids.count(parent->key) == 0) {
    // The parent link goes into the room's first state: its space first.
    if (depth >= k_max_depth) {
      return model::fail(model::Error::Kind::invalid, "room." + key + ": spaces nested too deep");
    }
    auto parent_id = ensure_room(desired, parent->key, depth + 1);
    if (!parent_id) {
      return parent_id;
    }
    context.room_ids[parent->key] = *parent_id;
  }
  model::Operation create;
  create.kind = model::Operation::Kind::create_room;
  create.room_key = key;
  auto created = m_port.execute(create, context);
  if (!created) {
    return tl::unexpected(created.error());
  }
  if (!created->room_id) {
    return model::fail(model::Error::Kind::invalid, "room." + key + ": created without a room id");
  }
  const std::string room_id = *created->room_id;
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_made[key] = room_id;
  }
  if (created->already_done) {
    return room_id;
  }
  note("created room." + key + " (" + room_id + ") for the homeserver's query of " + room->second.alias);
  if (parent) {
    context.room_ids[key] = room_id;
    model::Operation link;
    link.kind = model::Operation::Kind::set_state;
    link.room_key = parent->key;
    link.field = model::StateField::space_child;
    link.link_key = key;
    if (auto linked = m_port.execute(link, context); !linked) {
      note("room." + parent->key + " does not list room." + key + " yet (the next pass links it): " +
           redact(linked.error().message, {}));
    }
  }
  return room_id;
}

}  // namespace adapters
