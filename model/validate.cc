#include "model/validate.h"

#include <map>
#include <unordered_map>
#include <unordered_set>

#include "model/limits.h"
#include "model/matrix_ids.h"
#include "model/printable.h"
#include "model/suggest.h"

namespace model {

namespace {

constexpr int k_min_level = 0;
constexpr int k_max_level = 100;
// A community that names no policy, or names this one, gets the built-in
// FT-17 policy unless a PowerPolicy of this name replaces it.
constexpr std::string_view k_default_policy = "default";

// Names come from the input as they are: a hostile one must not drive the
// terminal that shows the diagnostic.
std::string in_quotes(std::string_view text) { return "\"" + printable(text) + "\""; }

// The first item of each name, as Topology::find_* would find it by a linear
// scan; validation looks up every member, so the scans made it quadratic.
template <typename T>
std::unordered_map<std::string_view, const T*> index_by_name(const std::vector<T>& items) {
  std::unordered_map<std::string_view, const T*> index;
  index.reserve(items.size());
  for (const T& item : items) {
    index.emplace(item.name, &item);
  }
  return index;
}

template <typename T>
std::vector<std::string> names_of(const std::vector<T>& items) {
  std::vector<std::string> names;
  names.reserve(items.size());
  for (const T& item : items) {
    names.push_back(item.name);
  }
  return names;
}

class Validator {
 public:
  explicit Validator(const Topology& topology)
      : m_topology(topology),
        m_user_names(names_of(topology.users)),
        m_community_names(names_of(topology.communities)),
        m_policy_names(names_of(topology.power_policies)),
        m_users(index_by_name(topology.users)),
        m_communities(index_by_name(topology.communities)) {
    if (!topology.find_power_policy(k_default_policy)) {
      m_policy_names.emplace_back(k_default_policy);
    }
  }

  Diagnostics run() {
    check_names(m_topology.users, "user");
    check_names(m_topology.communities, "community");
    check_names(m_topology.councils, "council");
    check_names(m_topology.coordination_rooms, "coordination room");
    check_names(m_topology.power_policies, "power policy");
    check_users();
    for (const Community& community : m_topology.communities) {
      check_community(community);
    }
    for (const Council& council : m_topology.councils) {
      check_council(council);
    }
    for (const CoordinationRoom& room : m_topology.coordination_rooms) {
      check_coordination_room(room);
    }
    for (const PowerPolicy& policy : m_topology.power_policies) {
      check_power_policy(policy);
    }
    Diagnostics texts = check_texts(m_topology);
    m_diagnostics.insert(m_diagnostics.end(), std::make_move_iterator(texts.begin()),
                         std::make_move_iterator(texts.end()));
    sort_diagnostics(m_diagnostics);
    return std::move(m_diagnostics);
  }

 private:
  bool is_user(std::string_view name) const { return m_users.count(name) > 0; }

  const Community* find_community(std::string_view name) const {
    auto it = m_communities.find(name);
    return it == m_communities.end() ? nullptr : it->second;
  }

  const std::unordered_set<std::string_view>& members_of(const Community& community) {
    auto [it, inserted] = m_community_members.try_emplace(&community);
    if (inserted) {
      for (const CommunityMember& member : community.members) {
        it->second.insert(member.user);
      }
    }
    return it->second;
  }

  void report(const SourceLocation& where, std::string message) {
    m_diagnostics.push_back(Diagnostic{where, std::move(message)});
  }

  // Keys become room keys and aliases, so they must follow the key grammar and
  // be unique within their kind (a user and a community may share a key).
  template <typename T>
  void check_names(const std::vector<T>& items, std::string_view kind) {
    std::map<std::string, const T*, std::less<>> first;
    for (const T& item : items) {
      const std::string subject = describe_object(kind, item.name);
      const SourceLocation& where = item.origin.of("metadata.name");
      if (auto problem = check_key(item.name)) {
        report(where, subject + ": invalid name: " + *problem);
      }
      auto [it, inserted] = first.emplace(item.name, &item);
      if (!inserted) {
        report(where, subject + ": already defined at " + it->second->origin.of("metadata.name").to_string());
      }
    }
  }

  void check_users() {
    std::map<std::string, const User*, std::less<>> localparts;
    std::map<std::string, const User*, std::less<>> linked;
    for (const User& user : m_topology.users) {
      const std::string subject = describe_object("user", user.name);
      const SourceLocation& localpart_at = user.origin.of("spec.localpart");
      if (user.localpart == user.name && check_key(user.name)) {
        // The localpart defaulted to a key already reported as invalid.
      } else if (auto problem = check_localpart(user.localpart)) {
        report(localpart_at, subject + ": invalid localpart " + in_quotes(user.localpart) + ": " + *problem);
      } else if (auto [it, inserted] = localparts.emplace(user.localpart, &user);
                 !inserted && it->second->name != user.name) {
        // Two keys on one account would make the compiler fight itself. (The
        // same key twice is reported as a duplicate name instead.)
        report(localpart_at, subject + ": localpart " + in_quotes(user.localpart) + " is already used by user " +
                                 in_quotes(it->second->name) + " (" +
                                 it->second->origin.of("spec.localpart").to_string() + ")");
      }
      check_avatar(subject, user.avatar_url, user.origin);
      for (std::size_t i = 0; i < user.linked_accounts.size(); ++i) {
        const std::string& account = user.linked_accounts[i];
        const SourceLocation& where = user.origin.of("spec.linkedAccounts[" + std::to_string(i) + "]");
        // Accounts elsewhere were made by other servers, possibly under the
        // older, wider grammar the spec still requires us to accept.
        if (auto problem = check_user_id(account, UserIdGrammar::historical)) {
          report(where, subject + ": invalid linked account " + in_quotes(account) + ": " + *problem);
          continue;
        }
        auto [it, inserted] = linked.emplace(account, &user);
        if (inserted) {
          continue;
        }
        if (it->second == &user) {
          report(where, subject + ": linked account " + in_quotes(account) + " is listed twice");
        } else {
          report(where, subject + ": linked account " + in_quotes(account) + " is already linked to user " +
                            in_quotes(it->second->name));
        }
      }
    }
  }

  void check_avatar(const std::string& subject, const std::optional<std::string>& avatar_url, const Origin& origin) {
    if (!avatar_url) {
      return;
    }
    if (auto problem = check_mxc_uri(*avatar_url)) {
      report(origin.of("spec.avatarUrl"), subject + ": invalid avatarUrl " + in_quotes(*avatar_url) + ": " + *problem);
    }
  }

  // Absent and explicitly empty are told apart by whether the source
  // recorded a position for the field.
  void require(const std::string& subject, const std::string& value, std::string_view field, const Origin& origin) {
    if (!value.empty()) {
      return;
    }
    auto it = origin.fields.find("spec." + std::string(field));
    if (it == origin.fields.end()) {
      report(origin.object, subject + ": missing required field " + in_quotes(field));
    } else {
      report(it->second, subject + ": " + std::string(field) + " must not be empty");
    }
  }

  // Shared by community and council members: the user must exist and be
  // listed once. Returns nothing; problems are reported.
  template <typename Member>
  void check_member_list(const std::string& subject, const std::vector<Member>& members) {
    std::map<std::string, const Member*, std::less<>> seen;
    for (const Member& member : members) {
      if (member.user.empty()) {
        if (auto it = member.origin.fields.find("user"); it != member.origin.fields.end()) {
          report(it->second, subject + ": a member's user must not be empty");
        } else {
          report(member.origin.object, subject + ": a member is missing required field \"user\"");
        }
        continue;
      }
      const SourceLocation& where = member.origin.of("user");
      if (!is_user(member.user)) {
        report(where, subject + ": unknown user " + in_quotes(member.user) + did_you_mean(member.user, m_user_names));
      }
      if (auto [it, inserted] = seen.emplace(member.user, &member); !inserted) {
        report(where, subject + ": user " + in_quotes(member.user) + " is listed more than once in members (first at " +
                          it->second->origin.of("user").to_string() + ")");
      }
    }
  }

  void check_community(const Community& community) {
    const std::string subject = describe_object("community", community.name);
    require(subject, community.display_name, "name", community.origin);
    check_avatar(subject, community.avatar_url, community.origin);
    if (!community.power_policy.empty() && community.power_policy != k_default_policy &&
        !m_topology.find_power_policy(community.power_policy)) {
      report(community.origin.of("spec.powerPolicy"), subject + ": unknown power policy " +
                                                          in_quotes(community.power_policy) +
                                                          did_you_mean(community.power_policy, m_policy_names));
    }
    check_member_list(subject, community.members);
    for (const CommunityMember& member : community.members) {
      if (member.trust < 0) {
        report(member.origin.of("trust"), subject + ": trust of " + in_quotes(member.user) +
                                              " must be 0 or more, got " + std::to_string(member.trust));
      }
    }
  }

  void check_always_encrypted(const std::string& subject, std::string_view plural, bool encrypted,
                              const Origin& origin) {
    // FT-17: council rooms and DMs MUST use E2EE, non-configurable.
    if (!encrypted) {
      report(origin.of("spec.encrypted"), subject + ": " + std::string(plural) +
                                              " are always end-to-end encrypted; encrypted: false is not allowed");
    }
  }

  void check_council(const Council& council) {
    const std::string subject = describe_object("council", council.name);
    require(subject, council.community, "community", council.origin);
    require(subject, council.display_name, "name", council.origin);
    const Community* community = nullptr;
    if (!council.community.empty()) {
      community = find_community(council.community);
      if (!community) {
        report(council.origin.of("spec.community"), subject + ": unknown community " + in_quotes(council.community) +
                                                        did_you_mean(council.community, m_community_names));
      }
    }
    check_always_encrypted(subject, "councils", council.encrypted, council.origin);
    check_member_list(subject, council.members);
    if (!community) {
      return;
    }
    // The council space is nested in the community space and joined through
    // it, so a council member from outside the community could never get in.
    const std::unordered_set<std::string_view>& community_members = members_of(*community);
    for (const CouncilMember& member : council.members) {
      if (member.user.empty() || !is_user(member.user)) {
        continue;
      }
      if (!community_members.count(member.user)) {
        report(member.origin.of("user"), subject + ": user " + in_quotes(member.user) +
                                             " is not a member of community " + in_quotes(community->name));
      }
    }
  }

  void check_coordination_room(const CoordinationRoom& room) {
    const std::string subject = describe_object("coordination room", room.name);
    require(subject, room.request, "request", room.origin);
    if (room.between.size() != 2) {
      report(room.origin.of("spec.between"),
             subject + ": between must name exactly two users, got " + std::to_string(room.between.size()));
    }
    for (std::size_t i = 0; i < room.between.size(); ++i) {
      const std::string& user = room.between[i];
      if (!is_user(user)) {
        report(room.origin.of("spec.between[" + std::to_string(i) + "]"),
               subject + ": unknown user " + in_quotes(user) + did_you_mean(user, m_user_names));
      }
    }
    if (room.between.size() == 2 && room.between[0] == room.between[1]) {
      report(room.origin.of("spec.between[1]"),
             subject + ": between must name two different users, got " + in_quotes(room.between[0]) + " twice");
    }
    check_always_encrypted(subject, "coordination rooms", room.encrypted, room.origin);
  }

  void check_level(const std::string& subject, const Origin& origin, const std::string& field, int level,
                   std::string_view shown) {
    if (level < k_min_level || level > k_max_level) {
      report(origin.of("spec." + field),
             subject + ": " + std::string(shown) + " must be between 0 and 100, got " + std::to_string(level));
    }
  }

  void check_power_policy(const PowerPolicy& policy) {
    const std::string subject = describe_object("power policy", policy.name);
    const Origin& origin = policy.origin;
    if (policy.bands.empty()) {
      report(origin.of("spec.bands"), subject + ": bands must not be empty");
    }
    for (std::size_t i = 0; i < policy.bands.size(); ++i) {
      const TrustBand& band = policy.bands[i];
      const std::string field = "bands[" + std::to_string(i) + "]";
      const SourceLocation& min_trust_at = origin.of("spec." + field + ".minTrust");
      if (i == 0 && band.min_trust != 0) {
        // Otherwise members below the first band would have no level at all.
        report(min_trust_at,
               subject + ": the first band must start at minTrust 0, got " + std::to_string(band.min_trust));
      }
      if (i > 0 && band.min_trust <= policy.bands[i - 1].min_trust) {
        report(min_trust_at, subject + ": bands must have strictly ascending minTrust, got " +
                                 std::to_string(band.min_trust) + " after " +
                                 std::to_string(policy.bands[i - 1].min_trust));
      }
      check_level(subject, origin, field + ".level", band.level, "band level");
    }
    check_level(subject, origin, "adminLevel", policy.admin_level, "adminLevel");
    check_level(subject, origin, "chairLevel", policy.chair_level, "chairLevel");
    const std::pair<const char*, int> thresholds[] = {
        {"invite", policy.invite},
        {"kick", policy.kick},
        {"ban", policy.ban},
        {"redact", policy.redact},
        {"eventsDefault", policy.events_default},
        {"stateDefault", policy.state_default},
    };
    for (const auto& [name, level] : thresholds) {
      const std::string field = std::string("thresholds.") + name;
      check_level(subject, origin, field, level, field);
    }
  }

  const Topology& m_topology;
  std::vector<std::string> m_user_names;
  std::vector<std::string> m_community_names;
  std::vector<std::string> m_policy_names;
  std::unordered_map<std::string_view, const User*> m_users;
  std::unordered_map<std::string_view, const Community*> m_communities;
  // Member user names per community, built when a council first needs them.
  std::unordered_map<const Community*, std::unordered_set<std::string_view>> m_community_members;
  Diagnostics m_diagnostics;
};

}  // namespace

std::string describe_object(std::string_view kind, std::string_view name) {
  return std::string(kind) + " " + in_quotes(name);
}

Diagnostics validate_topology(const Topology& topology) { return Validator(topology).run(); }

}  // namespace model
