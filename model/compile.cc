#include "model/compile.h"

#include <algorithm>
#include <charconv>

#include "model/naming.h"
#include "model/settings.h"
#include "model/topology.h"

namespace model {

namespace {

/// Restricted joins work from room version 8, but 8 mishandled them; 9 fixed it.
constexpr int k_min_restricted_version = 9;
/// What a too-old configured version is raised to for restricted rooms.
constexpr std::string_view k_restricted_fallback_version = "10";

/// Power level by topology user key, for the people of one room.
using LevelByUser = std::map<std::string, int>;

/// Keeps the higher level when a user reaches a room by more than one path
/// (listed twice, or a linked account that is also a member).
void raise_level(std::map<std::string, int>& levels, const std::string& who, int level) {
  auto [it, inserted] = levels.emplace(who, level);
  if (!inserted) {
    it->second = std::max(it->second, level);
  }
}

/// Accounts that may appear as members: declared and not deactivated. Looked
/// up among the compiled accounts (a map) because Topology::find_user is a
/// linear scan, which made compile quadratic in users at instance scale.
const Account* active_account(const std::map<std::string, Account>& accounts, const std::string& name) {
  auto it = accounts.find(name);
  return it != accounts.end() && it->second.status == AccountStatus::active ? &it->second : nullptr;
}

/// Adds each person in `people` (and their linked accounts, seed 004) as a
/// member at their level. Levels equal to users_default are not listed (see
/// the header); the bot keeps k_bot_level whatever else happens.
void add_people(Room& room, const LevelByUser& people, const std::map<std::string, Account>& accounts,
                const Settings& settings) {
  std::map<std::string, int> levels;
  for (const auto& [name, level] : people) {
    const Account* account = active_account(accounts, name);
    if (account == nullptr) {
      continue;
    }
    const std::string& user_id = account->user_id;
    room.members.insert(user_id);
    raise_level(levels, user_id, level);
    for (const std::string& linked : account->linked_accounts) {
      room.members.insert(linked);
      raise_level(levels, linked, level);
    }
  }
  for (const auto& [user_id, level] : levels) {
    if (level != room.power_levels.users_default) {
      raise_level(room.power_levels.users, user_id, level);
    }
  }
  if (!settings.bot_user_id.empty()) {
    room.power_levels.users[settings.bot_user_id] = k_bot_level;
  }
}

/// A room or space with the fields every managed room shares.
Room new_room(std::string key, RoomKind kind, JoinRule join_rule, const PowerPolicy& policy,
              const Settings& settings) {
  Room room;
  room.alias = alias_for(key, settings);
  room.key = std::move(key);
  room.kind = kind;
  room.join_rule = join_rule;
  room.power_levels = base_power_levels(policy, settings);
  room.room_version = room_version_for(join_rule, settings);
  return room;
}

SpaceLink link_to(std::string key, const Settings& settings) {
  return SpaceLink{std::move(key), {settings.server_name}, true};
}

/// Levels of a community's active members under its policy (admins at admin_level).
LevelByUser community_levels(const Community& community, const PowerPolicy& policy) {
  LevelByUser levels;
  for (const CommunityMember& member : community.members) {
    raise_level(levels, member.user, policy.level_for(member.trust, member.role));
  }
  return levels;
}

/// Stores `room` under its key, in archived form when `archived`; the first
/// room stored under a key wins.
void emit(MatrixState& state, Room room, bool archived, bool protect) {
  std::string key = room.key;
  room.protect = protect;
  state.rooms.emplace(std::move(key), archived ? archived_form(std::move(room)) : std::move(room));
}

std::string or_default(const std::string& value, const std::string& fallback) {
  return value.empty() ? fallback : value;
}

Account compile_account(const User& user, const Settings& settings) {
  Account account;
  account.key = user.name;
  account.user_id = user_id_for(user, settings);
  account.localpart = user.localpart.empty() ? user.name : user.localpart;
  account.display_name = user.display_name;
  account.avatar_url = user.avatar_url;
  account.admin = user.admin;
  account.status = user.deactivated ? AccountStatus::suspended : AccountStatus::active;
  account.linked_accounts = user.linked_accounts;
  account.protect = user.protect;
  return account;
}

void compile_council(MatrixState& state, const Council& council, const Community& community,
                     const PowerPolicy& policy, const LevelByUser& in_community, const Settings& settings) {
  const std::string space_key = council_space_key(council.name);
  const std::string discussion_key = council_discussion_key(council.name);
  const std::string display = or_default(council.display_name, council.name);
  const bool archived = council.archived || community.archived;
  const bool protect = council.protect || community.protect;

  LevelByUser people;
  for (const CouncilMember& member : council.members) {
    // A council seat never lowers what the person already has in the community.
    auto it = in_community.find(member.user);
    int level = it == in_community.end() ? 0 : it->second;
    if (member.role == CouncilRole::chair) {
      level = std::max(level, policy.chair_level);
    }
    raise_level(people, member.user, level);
  }

  Room space = new_room(space_key, RoomKind::space, JoinRule::invite, policy, settings);
  space.name = display;
  space.topic = council.topic;
  space.history_visibility = HistoryVisibility::invited;
  space.encrypted = true;
  space.children = {link_to(discussion_key, settings)};
  space.parent = link_to(community_space_key(community.name), settings);
  add_people(space, people, state.accounts, settings);

  Room discussion = new_room(discussion_key, RoomKind::room, JoinRule::restricted, policy, settings);
  discussion.name = display + " Discussion";
  discussion.topic = council.topic;
  discussion.allow_spaces = {space_key};
  discussion.history_visibility = HistoryVisibility::invited;
  discussion.encrypted = true;
  discussion.parent = link_to(space_key, settings);
  add_people(discussion, people, state.accounts, settings);

  emit(state, std::move(space), archived, protect);
  emit(state, std::move(discussion), archived, protect);
}

void compile_community(MatrixState& state, const Community& community, const Topology& topology,
                       const Settings& settings) {
  const std::string space_key = community_space_key(community.name);
  const std::string general_key = community_general_key(community.name);
  const std::string display = or_default(community.display_name, community.name);
  const PowerPolicy policy = resolve_power_policy(topology, community.power_policy);
  const LevelByUser levels = community_levels(community, policy);

  Room space = new_room(space_key, RoomKind::space, JoinRule::invite, policy, settings);
  space.name = display;
  space.topic = community.topic;
  space.avatar_url = community.avatar_url;
  space.history_visibility = HistoryVisibility::shared;
  space.children.push_back(link_to(general_key, settings));
  add_people(space, levels, state.accounts, settings);

  Room general = new_room(general_key, RoomKind::room, JoinRule::restricted, policy, settings);
  general.name = or_default(community.general_room.name, display + " General");
  general.topic = community.general_room.topic;
  general.allow_spaces = {space_key};
  general.history_visibility = HistoryVisibility::shared;
  general.encrypted = community.general_room.encrypted;
  general.parent = link_to(space_key, settings);
  add_people(general, levels, state.accounts, settings);
  emit(state, std::move(general), community.archived, community.protect);

  for (const Council& council : topology.councils) {
    // Only the community that find_community resolves owns the council, so a
    // duplicate community name cannot give a council two parents.
    if (council.community != community.name || topology.find_community(council.community) != &community) {
      continue;
    }
    compile_council(state, council, community, policy, levels, settings);
    // Link only a council space that really is ours: with a duplicate council
    // name the first declared one holds the key, possibly under another parent.
    const Room& council_space = state.rooms.at(council_space_key(council.name));
    if (council_space.parent && council_space.parent->key == space_key) {
      space.children.push_back(link_to(council_space.key, settings));
    }
  }
  std::sort(space.children.begin(), space.children.end(),
            [](const SpaceLink& a, const SpaceLink& b) { return a.key < b.key; });
  space.children.erase(std::unique(space.children.begin(), space.children.end()), space.children.end());
  emit(state, std::move(space), community.archived, community.protect);
}

void compile_coordination_room(MatrixState& state, const CoordinationRoom& dm, const Topology& topology,
                               const Settings& settings) {
  const std::string key = coordination_room_key(dm.name);
  const std::string request = or_default(dm.request, dm.name);
  const PowerPolicy policy = resolve_power_policy(topology, "");

  Room room = new_room(key, RoomKind::room, JoinRule::invite, policy, settings);
  room.name = "Request " + request;
  room.topic = "Coordinate delivery for request " + request;
  room.history_visibility = HistoryVisibility::shared;
  room.encrypted = true;
  room.is_direct = true;
  // FT-17 UC-1's context message when the source gave none.
  room.once_message = OnceMessage{once_txn_id(key, "context"),
                                  or_default(dm.message, "Request accepted! Coordinate delivery for: " + request)};
  LevelByUser people;
  for (const std::string& user : dm.between) {
    // Participants sit at users_default: they talk, they do not administer.
    raise_level(people, user, room.power_levels.users_default);
  }
  add_people(room, people, state.accounts, settings);
  emit(state, std::move(room), dm.archived, dm.protect);
}

bool is_numeric(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

MatrixState compile(const Topology& topology, const Settings& settings) {
  MatrixState state;
  for (const User& user : topology.users) {
    state.accounts.emplace(user.name, compile_account(user, settings));
  }
  for (const Community& community : topology.communities) {
    if (!community.matrix_enabled || topology.find_community(community.name) != &community) {
      continue;
    }
    compile_community(state, community, topology, settings);
  }
  for (const CoordinationRoom& dm : topology.coordination_rooms) {
    compile_coordination_room(state, dm, topology, settings);
  }
  return state;
}

PowerPolicy resolve_power_policy(const Topology& topology, std::string_view name) {
  if (!name.empty()) {
    if (const PowerPolicy* named = topology.find_power_policy(name)) {
      return *named;
    }
  }
  if (const PowerPolicy* declared_default = topology.find_power_policy("default")) {
    return *declared_default;
  }
  return PowerPolicy::ft17();
}

std::string room_version_for(JoinRule join_rule, const Settings& settings) {
  const std::string& configured = settings.room_version;
  if (join_rule != JoinRule::restricted || !is_numeric(configured)) {
    return configured;
  }
  int version = 0;
  auto [end, error] = std::from_chars(configured.data(), configured.data() + configured.size(), version);
  // A number too large for int is certainly new enough.
  if (error == std::errc::result_out_of_range || version >= k_min_restricted_version) {
    return configured;
  }
  return std::string(k_restricted_fallback_version);
}

std::map<std::string, int> controller_owned_events(const Settings& settings) {
  std::map<std::string, int> events;
  for (const char* type : {"m.room.power_levels", "m.room.encryption", "m.room.history_visibility",
                           "m.room.join_rules", "m.room.tombstone", "m.room.server_acl", "m.space.child",
                           "m.space.parent", "m.room.name", "m.room.topic", "m.room.avatar",
                           "m.room.canonical_alias"}) {
    events[type] = k_bot_level;
  }
  events[settings.marker_event_type] = k_bot_level;
  return events;
}

PowerLevels base_power_levels(const PowerPolicy& policy, const Settings& settings) {
  PowerLevels levels;
  levels.invite = policy.invite;
  levels.kick = policy.kick;
  levels.ban = policy.ban;
  levels.redact = policy.redact;
  levels.events_default = policy.events_default;
  levels.state_default = policy.state_default;
  levels.users_default = 0;
  levels.events = controller_owned_events(settings);
  if (!settings.bot_user_id.empty()) {
    levels.users[settings.bot_user_id] = k_bot_level;
  }
  return levels;
}

Room archived_form(Room room) {
  if (room.archived) {
    return room;
  }
  room.archived = true;
  room.name += k_archived_suffix;
  room.join_rule = JoinRule::invite;
  room.allow_spaces.clear();
  room.power_levels.events_default = k_bot_level;
  return room;
}

}  // namespace model
