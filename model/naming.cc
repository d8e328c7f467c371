#include "model/naming.h"

#include <algorithm>

#include "model/settings.h"
#include "model/topology.h"

namespace model {

namespace {

/// Fixed namespace of transaction ids; deliberately not the alias prefix
/// (see once_txn_id).
constexpr std::string_view k_txn_prefix = "mxctl.";

// The first segment of a room key: what the room was made for.
constexpr std::string_view k_community = "community";
constexpr std::string_view k_council = "council";
constexpr std::string_view k_coordination = "dm";

constexpr std::string_view k_room_prefix = "room.";
constexpr std::string_view k_account_prefix = "account.";

std::string join_key(std::string_view kind, std::string_view name, std::string_view sub = {}) {
  std::string key;
  key.reserve(kind.size() + name.size() + sub.size() + 2);
  key.append(kind).append("/").append(name);
  if (!sub.empty()) {
    key.append("/").append(sub);
  }
  return key;
}

}  // namespace

std::string user_id_for(std::string_view localpart, const Settings& settings) {
  std::string id = "@";
  id.append(localpart).append(":").append(settings.server_name);
  return id;
}

std::string user_id_for(const User& user, const Settings& settings) {
  return user_id_for(user.localpart.empty() ? std::string_view(user.name) : std::string_view(user.localpart),
                     settings);
}

std::string community_space_key(std::string_view community) { return join_key(k_community, community); }

std::string community_general_key(std::string_view community) {
  return join_key(k_community, community, "general");
}

std::string council_space_key(std::string_view council) { return join_key(k_council, council); }

std::string council_discussion_key(std::string_view council) {
  return join_key(k_council, council, "discussion");
}

std::string coordination_room_key(std::string_view name) { return join_key(k_coordination, name); }

RoomKeyKind room_key_kind(std::string_view room_key) {
  const std::string_view first = room_key.substr(0, room_key.find('/'));
  if (first.size() == room_key.size()) {
    return RoomKeyKind::other;  // no segment after it: not a key of ours
  }
  if (first == k_community) {
    return RoomKeyKind::community;
  }
  if (first == k_council) {
    return RoomKeyKind::council;
  }
  return first == k_coordination ? RoomKeyKind::coordination : RoomKeyKind::other;
}

std::string dotted_key(std::string_view room_key) {
  std::string dotted(room_key);
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  return dotted;
}

std::string alias_localpart_for(std::string_view room_key, const Settings& settings) {
  return settings.alias_prefix + dotted_key(room_key);
}

std::string alias_for(std::string_view room_key, const Settings& settings) {
  std::string alias = "#";
  alias.append(alias_localpart_for(room_key, settings)).append(":").append(settings.server_name);
  return alias;
}

std::string once_txn_id(std::string_view room_key, std::string_view purpose) {
  std::string id(k_txn_prefix);
  id.append(dotted_key(room_key)).append(".").append(purpose);
  return id;
}

std::string room_address(std::string_view key) { return std::string(k_room_prefix).append(key); }

std::string account_address(std::string_view key) { return std::string(k_account_prefix).append(key); }

AddressKind address_kind(std::string_view address) {
  if (address.starts_with(k_room_prefix)) {
    return AddressKind::room;
  }
  if (address.starts_with(k_account_prefix)) {
    return AddressKind::account;
  }
  return AddressKind::none;
}

std::string_view address_key(std::string_view address) {
  switch (address_kind(address)) {
    case AddressKind::room: return address.substr(k_room_prefix.size());
    case AddressKind::account: return address.substr(k_account_prefix.size());
    case AddressKind::none: break;
  }
  return {};
}

}  // namespace model
