#include "model/state_codec.h"

#include <type_traits>
#include <utility>

#include "model/byte_codec.h"

namespace model {

namespace {

// The first bytes of each encoding; another format version is another tag,
// and a store holding the old one reads it as nothing.
constexpr std::string_view k_state_tag = "mxctl.state.1";
constexpr std::string_view k_room_tag = "mxctl.observed-room.1";

// Each struct is taken apart with a structured binding, so a field added to
// it fails to compile here until the encoding carries it too.

void put(ByteWriter& out, const std::string& value) { out.text(value); }
void put(ByteWriter& out, bool value) { out.boolean(value); }
void put(ByteWriter& out, int value) { out.signed_int(value); }
void put(ByteWriter& out, std::int64_t value) { out.signed_int(value); }
template <typename Enum>
  requires std::is_enum_v<Enum>
void put(ByteWriter& out, Enum value) {
  out.signed_int(static_cast<int>(value));
}
void put(ByteWriter& out, const Account& account);
void put(ByteWriter& out, const PowerLevels& levels);
void put(ByteWriter& out, const SpaceLink& link);
void put(ByteWriter& out, const OnceMessage& message);
void put(ByteWriter& out, const Room& room);
void put(ByteWriter& out, const MemberState& member);
void put(ByteWriter& out, const MatrixState& state);
void put(ByteWriter& out, const ObservedRoom& observed);
template <typename T>
void put(ByteWriter& out, const std::optional<T>& value);
template <typename T>
void put(ByteWriter& out, const std::vector<T>& values);
template <typename T>
void put(ByteWriter& out, const std::set<T>& values);
template <typename K, typename V>
void put(ByteWriter& out, const std::map<K, V>& values);
template <typename... T>
void put_all(ByteWriter& out, const T&... fields) {
  (put(out, fields), ...);
}
template <typename T>
void put(ByteWriter& out, const std::optional<T>& value) {
  out.boolean(value.has_value());
  if (value) {
    put(out, *value);
  }
}
template <typename T>
void put(ByteWriter& out, const std::vector<T>& values) {
  out.unsigned_int(values.size());
  for (const T& value : values) {
    put(out, value);
  }
}
template <typename T>
void put(ByteWriter& out, const std::set<T>& values) {
  out.unsigned_int(values.size());
  for (const T& value : values) {
    put(out, value);
  }
}
template <typename K, typename V>
void put(ByteWriter& out, const std::map<K, V>& values) {
  out.unsigned_int(values.size());
  for (const auto& [key, value] : values) {
    put(out, key);
    put(out, value);
  }
}

void put(ByteWriter& out, const Account& account) {
  const auto& [key, user_id, localpart, display_name, avatar_url, admin, status, linked_accounts, protect] = account;
  put_all(out, key, user_id, localpart, display_name, avatar_url, admin, status, linked_accounts, protect);
}

void put(ByteWriter& out, const PowerLevels& levels) {
  const auto& [ban, invite, kick, redact, events_default, state_default, users_default, events, users,
               notifications_room, unmanaged] = levels;
  put_all(out, ban, invite, kick, redact, events_default, state_default, users_default, events, users,
          notifications_room, unmanaged);
}

void put(ByteWriter& out, const SpaceLink& link) {
  const auto& [key, via, canonical] = link;
  put_all(out, key, via, canonical);
}

void put(ByteWriter& out, const OnceMessage& message) {
  const auto& [txn_id, body] = message;
  put_all(out, txn_id, body);
}

void put(ByteWriter& out, const Room& room) {
  const auto& [key, alias, kind, name, topic, avatar_url, join_rule, allow_spaces, history_visibility, guests_forbidden, encrypted,
               power_levels, children, parent, members, room_version, is_direct, once_message, archived, archived_at,
               protect] = room;
  put_all(out, key, alias, kind, name, topic, avatar_url, join_rule, allow_spaces, history_visibility, guests_forbidden, encrypted,
          power_levels, children, parent, members, room_version, is_direct, once_message, archived, archived_at,
          protect);
}

void put(ByteWriter& out, const MemberState& member) {
  const auto& [membership, by_self] = member;
  put_all(out, membership, by_self);
}

void put(ByteWriter& out, const MatrixState& state) {
  const auto& [accounts, rooms] = state;
  put_all(out, accounts, rooms);
}

void put(ByteWriter& out, const ObservedRoom& observed) {
  const auto& [room_id, marker_key, room, members, parents, replacement_room, predecessor, marker_missing] = observed;
  put_all(out, room_id, marker_key, room, members, parents, replacement_room, predecessor, marker_missing);
}

void get(ByteReader& in, std::string& value) { value = in.text(); }
void get(ByteReader& in, bool& value) { value = in.boolean(); }
void get(ByteReader& in, int& value) { value = in.bounded_int(); }
void get(ByteReader& in, std::int64_t& value) { value = in.signed_int(); }
void get(ByteReader& in, AccountStatus& value) { value = in.enumerator(AccountStatus::suspended); }
void get(ByteReader& in, RoomKind& value) { value = in.enumerator(RoomKind::space); }
void get(ByteReader& in, JoinRule& value) { value = in.enumerator(JoinRule::public_); }
void get(ByteReader& in, HistoryVisibility& value) { value = in.enumerator(HistoryVisibility::world_readable); }
void get(ByteReader& in, Membership& value) { value = in.enumerator(Membership::knock); }
void get(ByteReader& in, Account& account);
void get(ByteReader& in, PowerLevels& levels);
void get(ByteReader& in, SpaceLink& link);
void get(ByteReader& in, OnceMessage& message);
void get(ByteReader& in, Room& room);
void get(ByteReader& in, MemberState& member);
void get(ByteReader& in, MatrixState& state);
void get(ByteReader& in, ObservedRoom& observed);
template <typename T>
void get(ByteReader& in, std::optional<T>& value);
template <typename T>
void get(ByteReader& in, std::vector<T>& values);
template <typename T>
void get(ByteReader& in, std::set<T>& values);
template <typename K, typename V>
void get(ByteReader& in, std::map<K, V>& values);
template <typename... T>
void get_all(ByteReader& in, T&... fields) {
  (get(in, fields), ...);
}

template <typename T>
void get(ByteReader& in, std::optional<T>& value) {
  value.reset();
  if (in.boolean()) {
    get(in, value.emplace());
  }
}
template <typename T>
void get(ByteReader& in, std::vector<T>& values) {
  const std::size_t count = in.count();
  values.clear();
  values.reserve(count);
  for (std::size_t i = 0; i < count && in.ok(); ++i) {
    get(in, values.emplace_back());
  }
}
// Sets and maps must come in strictly ascending order, as they were written:
// anything else is not an encoding this codec made.
template <typename T>
void get(ByteReader& in, std::set<T>& values) {
  const std::size_t count = in.count();
  values.clear();
  for (std::size_t i = 0; i < count && in.ok(); ++i) {
    T value{};
    get(in, value);
    if (!values.empty() && !(*values.rbegin() < value)) {
      in.fail();
    }
    values.insert(values.end(), std::move(value));
  }
}
template <typename K, typename V>
void get(ByteReader& in, std::map<K, V>& values) {
  const std::size_t count = in.count();
  values.clear();
  for (std::size_t i = 0; i < count && in.ok(); ++i) {
    K key{};
    get(in, key);
    if (!values.empty() && !(values.rbegin()->first < key)) {
      in.fail();
    }
    get(in, values.emplace_hint(values.end(), std::move(key), V{})->second);
  }
}

void get(ByteReader& in, Account& account) {
  auto& [key, user_id, localpart, display_name, avatar_url, admin, status, linked_accounts, protect] = account;
  get_all(in, key, user_id, localpart, display_name, avatar_url, admin, status, linked_accounts, protect);
}

void get(ByteReader& in, PowerLevels& levels) {
  auto& [ban, invite, kick, redact, events_default, state_default, users_default, events, users, notifications_room,
         unmanaged] = levels;
  get_all(in, ban, invite, kick, redact, events_default, state_default, users_default, events, users,
          notifications_room, unmanaged);
}

void get(ByteReader& in, SpaceLink& link) {
  auto& [key, via, canonical] = link;
  get_all(in, key, via, canonical);
}

void get(ByteReader& in, OnceMessage& message) {
  auto& [txn_id, body] = message;
  get_all(in, txn_id, body);
}

void get(ByteReader& in, Room& room) {
  auto& [key, alias, kind, name, topic, avatar_url, join_rule, allow_spaces, history_visibility, guests_forbidden, encrypted,
         power_levels, children, parent, members, room_version, is_direct, once_message, archived, archived_at,
         protect] = room;
  get_all(in, key, alias, kind, name, topic, avatar_url, join_rule, allow_spaces, history_visibility, guests_forbidden, encrypted,
          power_levels, children, parent, members, room_version, is_direct, once_message, archived, archived_at,
          protect);
}

void get(ByteReader& in, MemberState& member) {
  auto& [membership, by_self] = member;
  get_all(in, membership, by_self);
}

void get(ByteReader& in, MatrixState& state) {
  auto& [accounts, rooms] = state;
  get_all(in, accounts, rooms);
}

void get(ByteReader& in, ObservedRoom& observed) {
  auto& [room_id, marker_key, room, members, parents, replacement_room, predecessor, marker_missing] = observed;
  get_all(in, room_id, marker_key, room, members, parents, replacement_room, predecessor, marker_missing);
}

template <typename T>
std::string encode(std::string_view tag, const T& value) {
  ByteWriter out;
  out.text(tag);
  put_all(out, value);
  return std::move(out).take();
}

template <typename T>
std::optional<T> decode(std::string_view tag, std::string_view bytes) {
  ByteReader in(bytes);
  if (in.text() != tag) {
    return std::nullopt;
  }
  T value{};
  get_all(in, value);
  if (!in.finished()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::string encode_matrix_state(const MatrixState& state) { return encode(k_state_tag, state); }

std::optional<MatrixState> decode_matrix_state(std::string_view bytes) {
  return decode<MatrixState>(k_state_tag, bytes);
}

std::string encode_observed_room(const ObservedRoom& room) { return encode(k_room_tag, room); }

std::optional<ObservedRoom> decode_observed_room(std::string_view bytes) {
  return decode<ObservedRoom>(k_room_tag, bytes);
}

std::string encode_settings(const Settings& settings) {
  ByteWriter out;
  const auto& [homeserver_url, server_name, bot_user_id, alias_prefix, marker_event_type, instance,
               grace_period_days, mass_change_max_percent, mass_change_max_count, deactivate_accounts,
               provisioning, room_version, appservice_rate_limited, reinvite_to_community_rooms,
               reinvite_to_council_rooms, force_join, read_timeout_seconds, request_timeout_seconds,
               sync_timeout_seconds, max_answer_megabytes, max_sync_answer_megabytes, pass_timeout_minutes,
               resync_interval_minutes, source_interval_seconds, shutdown_grace_seconds, listen, ca_file] = settings;
  for (const std::string* text : {&homeserver_url, &server_name, &bot_user_id, &alias_prefix, &marker_event_type,
                                  &instance, &room_version, &listen, &ca_file}) {
    out.text(*text);
  }
  for (int number : {grace_period_days, mass_change_max_percent, mass_change_max_count, read_timeout_seconds,
                     request_timeout_seconds, sync_timeout_seconds, max_answer_megabytes, max_sync_answer_megabytes,
                     pass_timeout_minutes, resync_interval_minutes, source_interval_seconds,
                     shutdown_grace_seconds, static_cast<int>(provisioning)}) {
    out.signed_int(number);
  }
  for (bool flag : {deactivate_accounts, appservice_rate_limited, reinvite_to_community_rooms,
                    reinvite_to_council_rooms, force_join}) {
    out.boolean(flag);
  }
  return std::move(out).take();
}


}  // namespace model
