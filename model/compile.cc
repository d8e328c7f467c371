#include "model/compile.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

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
  auto [it, inserted] = levels.try_emplace(who, level);
  if (!inserted) {
    it->second = std::max(it->second, level);
  }
}

/// The accounts that may appear as members (declared and not deactivated),
/// by user name. Hashed and built once per compile: with the accounts'
/// ordered map, the string comparisons of a lookup per person per room
/// group stood out in compile's profile at instance scale.
using ActiveAccounts = std::unordered_map<std::string_view, const Account*>;

ActiveAccounts active_accounts(const std::map<std::string, Account>& accounts) {
  ActiveAccounts active;
  active.reserve(accounts.size());
  for (const auto& [name, account] : accounts) {
    if (account.status == AccountStatus::active) {
      active.emplace(name, &account);
    }
  }
  return active;
}

/// The members of rooms that share their people (a community's space and
/// general room, a council's two rooms, a DM) and the levels to list for
/// them: resolved to MXIDs once per group, copied into its first room and
/// moved into its last.
struct RoomPeople {
  std::set<std::string> members;
  /// Only levels other than users_default (see the header).
  std::map<std::string, int> users;
};

/// Each person in `people` (and their linked accounts, seed 004) who has an
/// active account, at their level; a user reached by more than one path
/// keeps the highest. Sorted MXIDs are appended at the end of the set and
/// map (constant time each), not searched for person by person.
RoomPeople resolve_people(const LevelByUser& people, const ActiveAccounts& accounts, int users_default) {
  std::vector<std::pair<const std::string*, int>> levels;
  for (const auto& [name, level] : people) {
    auto found = accounts.find(name);
    if (found == accounts.end()) {
      continue;
    }
    const Account* account = found->second;
    levels.emplace_back(&account->user_id, level);
    for (const std::string& linked : account->linked_accounts) {
      levels.emplace_back(&linked, level);
    }
  }
  // By MXID, the highest level first, so the first of each MXID is the one kept.
  std::sort(levels.begin(), levels.end(), [](const auto& a, const auto& b) {
    const int order = a.first->compare(*b.first);
    return order != 0 ? order < 0 : a.second > b.second;
  });
  RoomPeople resolved;
  const std::string* previous = nullptr;
  for (const auto& [user_id, level] : levels) {
    if (previous != nullptr && *previous == *user_id) {
      continue;
    }
    previous = user_id;
    resolved.members.emplace_hint(resolved.members.end(), *user_id);
    if (level != users_default) {
      resolved.users.emplace_hint(resolved.users.end(), *user_id, level);
    }
  }
  return resolved;
}

/// Adds `people` to a room as members at their levels, keeping the higher
/// level where the room already lists one; the bot keeps k_bot_level
/// whatever else happens. By value: the last room of a group takes the
/// resolved people over instead of copying them.
void add_people(Room& room, RoomPeople people, const Settings& settings) {
  // The room's own entries (the bot) are merged into the resolved map, which
  // is usually far larger, rather than the other way round.
  for (const auto& [user_id, level] : room.power_levels.users) {
    raise_level(people.users, user_id, level);
  }
  room.power_levels.users = std::move(people.users);
  if (room.members.empty()) {
    room.members = std::move(people.members);
  } else {
    room.members.insert(people.members.begin(), people.members.end());
  }
  if (!settings.bot_user_id.empty()) {
    room.power_levels.users[settings.bot_user_id] = k_bot_level;
  }
}

/// A room or space with the fields every managed room shares; `levels` are
/// base_power_levels of the room's policy, built once per policy.
Room new_room(std::string key, RoomKind kind, JoinRule join_rule, const PowerLevels& levels,
              const Settings& settings) {
  Room room;
  room.alias = alias_for(key, settings);
  room.key = std::move(key);
  room.kind = kind;
  room.join_rule = join_rule;
  room.power_levels = levels;
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

/// What a community's rooms and its councils' rooms share: its policy, the
/// power levels before members, and its members' levels.
struct CommunityContext {
  const Community& community;
  const ActiveAccounts& accounts;
  PowerPolicy policy;
  PowerLevels base_levels;
  LevelByUser levels;
};

void compile_council(MatrixState& state, const Council& council, const CommunityContext& context,
                     const Settings& settings) {
  const Community& community = context.community;
  const std::string space_key = council_space_key(council.name);
  const std::string discussion_key = council_discussion_key(council.name);
  const std::string display = or_default(council.display_name, council.name);
  const bool archived = council.archived || community.archived;
  const bool protect = council.protect || community.protect;

  LevelByUser seats;
  for (const CouncilMember& member : council.members) {
    // A council seat never lowers what the person already has in the community.
    auto it = context.levels.find(member.user);
    int level = it == context.levels.end() ? 0 : it->second;
    if (member.role == CouncilRole::chair) {
      level = std::max(level, context.policy.chair_level);
    }
    raise_level(seats, member.user, level);
  }
  RoomPeople people = resolve_people(seats, context.accounts, context.base_levels.users_default);

  Room space = new_room(space_key, RoomKind::space, JoinRule::invite, context.base_levels, settings);
  space.name = display;
  space.topic = council.topic;
  space.history_visibility = HistoryVisibility::invited;
  space.guests_forbidden = true;
  space.encrypted = true;
  space.children = {link_to(discussion_key, settings)};
  space.parent = link_to(community_space_key(community.name), settings);
  add_people(space, people, settings);

  Room discussion = new_room(discussion_key, RoomKind::room, JoinRule::restricted, context.base_levels, settings);
  discussion.name = display + " Discussion";
  discussion.topic = council.topic;
  discussion.allow_spaces = {space_key};
  discussion.history_visibility = HistoryVisibility::invited;
  discussion.guests_forbidden = true;
  discussion.encrypted = true;
  discussion.parent = link_to(space_key, settings);
  add_people(discussion, std::move(people), settings);

  emit(state, std::move(space), archived, protect);
  emit(state, std::move(discussion), archived, protect);
}

/// `councils`: the councils that name the community, in declaration order.
void compile_community(MatrixState& state, const Community& community, const std::vector<const Council*>& councils,
                       const ActiveAccounts& accounts, const Topology& topology, const Settings& settings) {
  const std::string space_key = community_space_key(community.name);
  const std::string general_key = community_general_key(community.name);
  const std::string display = or_default(community.display_name, community.name);
  CommunityContext context{community, accounts, resolve_power_policy(topology, community.power_policy), {}, {}};
  context.base_levels = base_power_levels(context.policy, settings);
  context.levels = community_levels(community, context.policy);
  RoomPeople people = resolve_people(context.levels, context.accounts, context.base_levels.users_default);

  Room space = new_room(space_key, RoomKind::space, JoinRule::invite, context.base_levels, settings);
  space.name = display;
  space.topic = community.topic;
  space.avatar_url = community.avatar_url;
  space.history_visibility = HistoryVisibility::shared;
  space.children.push_back(link_to(general_key, settings));
  add_people(space, people, settings);

  Room general = new_room(general_key, RoomKind::room, JoinRule::restricted, context.base_levels, settings);
  general.name = or_default(community.general_room.name, display + " General");
  general.topic = community.general_room.topic;
  general.allow_spaces = {space_key};
  general.history_visibility = HistoryVisibility::shared;
  general.encrypted = community.general_room.encrypted;
  general.parent = link_to(space_key, settings);
  add_people(general, std::move(people), settings);
  emit(state, std::move(general), community.archived, community.protect);

  for (const Council* council : councils) {
    compile_council(state, *council, context, settings);
    // Link only a council space that really is ours: with a duplicate council
    // name the first declared one holds the key, possibly under another parent.
    const Room& council_space = state.rooms.at(council_space_key(council->name));
    if (council_space.parent && council_space.parent->key == space_key) {
      space.children.push_back(link_to(council_space.key, settings));
    }
  }
  std::sort(space.children.begin(), space.children.end(),
            [](const SpaceLink& a, const SpaceLink& b) { return a.key < b.key; });
  space.children.erase(std::unique(space.children.begin(), space.children.end()), space.children.end());
  emit(state, std::move(space), community.archived, community.protect);
}

/// `base_levels`: base_power_levels of the coordination rooms' policy.
void compile_coordination_room(MatrixState& state, const CoordinationRoom& dm, const ActiveAccounts& accounts,
                               const PowerLevels& base_levels, const Settings& settings) {
  const std::string key = coordination_room_key(dm.name);
  const std::string request = or_default(dm.request, dm.name);

  Room room = new_room(key, RoomKind::room, JoinRule::invite, base_levels, settings);
  room.name = "Request " + request;
  room.topic = "Coordinate delivery for request " + request;
  room.history_visibility = HistoryVisibility::shared;
  room.guests_forbidden = true;
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
  add_people(room, resolve_people(people, accounts, room.power_levels.users_default), settings);
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
  // Rooms only read the accounts from here on, so the index stays valid.
  const ActiveAccounts accounts = active_accounts(state.accounts);
  // Indexed once: looking communities and councils up by a scan per
  // community made compile quadratic in communities at instance scale.
  // The first community declared under a name is the one find_community
  // resolves, and only it owns the councils naming it (so a duplicate name
  // cannot give a council two parents).
  std::map<std::string_view, const Community*> first_declared;
  for (const Community& community : topology.communities) {
    first_declared.emplace(community.name, &community);
  }
  std::map<std::string_view, std::vector<const Council*>> councils_of;
  for (const Council& council : topology.councils) {
    councils_of[council.community].push_back(&council);
  }
  const std::vector<const Council*> no_councils;
  for (const Community& community : topology.communities) {
    if (!community.matrix_enabled || first_declared.at(community.name) != &community) {
      continue;
    }
    auto councils = councils_of.find(community.name);
    compile_community(state, community, councils == councils_of.end() ? no_councils : councils->second, accounts,
                      topology, settings);
  }
  const PowerLevels dm_levels = base_power_levels(resolve_power_policy(topology, ""), settings);
  for (const CoordinationRoom& dm : topology.coordination_rooms) {
    compile_coordination_room(state, dm, accounts, dm_levels, settings);
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
