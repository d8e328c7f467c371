#include "model/limits.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>

#include "model/compile.h"
#include "model/naming.h"
#include "model/printable.h"
#include "model/settings.h"
#include "model/topology.h"
#include "model/validate.h"

namespace model {

namespace {

// What compile.cc puts around the texts it is given; limits_test compiles
// texts at the limit to keep the two in step.
constexpr std::string_view k_general_suffix = " General";
constexpr std::string_view k_discussion_suffix = " Discussion";
constexpr std::string_view k_request_name_prefix = "Request ";
constexpr std::string_view k_request_topic_prefix = "Coordinate delivery for request ";
constexpr std::string_view k_request_message_prefix = "Request accepted! Coordinate delivery for: ";

// Every key of power-levels content but `events` and `users` entries, at
// their longest (levels of 3 digits and a sign), with the braces of both:
// about 170 bytes.
constexpr std::size_t k_power_levels_fixed_bytes = 256;
// What one `"@id": level,` entry adds beside the quoted id: ':' + at most
// 4 characters of level + ','.
constexpr std::size_t k_level_entry_bytes = 6;
// An identifier shown in a message is cut here: the point is its length.
constexpr std::size_t k_shown_identifier = 80;

std::string quoted(std::string_view text) { return "\"" + printable(text) + "\""; }

std::string shortened(std::string_view text) {
  if (text.size() <= k_shown_identifier) {
    return quoted(text);
  }
  return quoted(text.substr(0, k_shown_identifier)) + "…";
}

// {"<key>":"<value>"}
std::size_t one_field_content(std::string_view key, std::string_view value) {
  return json_string_bytes(key) + json_string_bytes(value) + 3;
}

// {"body":"<body>","msgtype":"m.text"}
std::size_t message_content(std::string_view body) {
  return json_string_bytes("body") + json_string_bytes(body) + json_string_bytes("msgtype") +
         json_string_bytes("m.text") + 5;
}

std::string join(std::string_view a, std::string_view b = {}, std::string_view c = {}) {
  std::string out(a);
  out.append(b).append(c);
  return out;
}

class TextChecks {
 public:
  // False (reported) when `value` is not acceptable text.
  bool plain(const std::string& subject, const Origin& origin, std::string_view field, std::string_view value,
             bool line_breaks = false) {
    if (auto problem = check_plain_text(value, line_breaks)) {
      report(origin, field, subject + ": invalid " + std::string(field) + ": " + *problem);
      return false;
    }
    return true;
  }

  // False (reported) when `content_bytes` of `event_type` content are more
  // than an event can carry.
  bool fits(const std::string& subject, const Origin& origin, std::string_view field, std::string_view event_type,
            std::size_t content_bytes) {
    if (content_bytes <= k_max_content_bytes) {
      return true;
    }
    report(origin, field,
           subject + ": " + std::string(field) + " is too long for an " + std::string(event_type) + " event (" +
               std::to_string(content_bytes) + " bytes of content, at most " + std::to_string(k_max_content_bytes) +
               " fit in a " + std::to_string(k_max_event_bytes) + "-byte event)");
    return false;
  }

  // A room name: plain text whose longest compiled form fits m.room.name.
  void room_name(const std::string& subject, const Origin& origin, std::string_view field, std::string_view value,
                 const std::string& longest) {
    if (plain(subject, origin, field, value)) {
      fits(subject, origin, field, "m.room.name", one_field_content("name", longest));
    }
  }

  void topic(const std::string& subject, const Origin& origin, std::string_view field, std::string_view value) {
    if (plain(subject, origin, field, value)) {
      fits(subject, origin, field, "m.room.topic", one_field_content("topic", value));
    }
  }

  void avatar(const std::string& subject, const Origin& origin, const std::optional<std::string>& url) {
    if (url && url->size() > k_max_avatar_url_chars) {
      report(origin, "avatarUrl",
             subject + ": avatarUrl is " + std::to_string(url->size()) + " characters long; Synapse accepts at most " +
                 std::to_string(k_max_avatar_url_chars));
    }
  }

  void display_name(const std::string& subject, const Origin& origin, const std::optional<std::string>& name) {
    if (!name || !plain(subject, origin, "displayName", *name)) {
      return;
    }
    if (std::size_t length = code_points(*name); length > k_max_display_name_chars) {
      report(origin, "displayName",
             subject + ": displayName is " + std::to_string(length) + " characters long; Synapse accepts at most " +
                 std::to_string(k_max_display_name_chars));
    }
  }

  Diagnostics take() { return std::move(m_diagnostics); }

 private:
  void report(const Origin& origin, std::string_view field, std::string message) {
    m_diagnostics.push_back({origin.of("spec." + std::string(field)), std::move(message)});
  }

  Diagnostics m_diagnostics;
};

void check_community_texts(TextChecks& checks, const Community& community) {
  const std::string subject = describe_object("community", community.name);
  const Origin& origin = community.origin;
  const std::string display = community.display_name.empty() ? community.name : community.display_name;
  // The space's name, or the general room's default one when it has none.
  const std::string longest =
      join(display, community.general_room.name.empty() ? k_general_suffix : "", k_archived_suffix);
  checks.room_name(subject, origin, "name", community.display_name, longest);
  checks.topic(subject, origin, "topic", community.topic);
  checks.room_name(subject, origin, "generalRoom.name", community.general_room.name,
                   join(community.general_room.name, k_archived_suffix));
  checks.topic(subject, origin, "generalRoom.topic", community.general_room.topic);
  checks.avatar(subject, origin, community.avatar_url);
}

void check_coordination_texts(TextChecks& checks, const CoordinationRoom& room) {
  const std::string subject = describe_object("coordination room", room.name);
  const Origin& origin = room.origin;
  // The request names the room, titles its topic and, without a message of
  // its own, ends the context message.
  if (checks.plain(subject, origin, "request", room.request) &&
      checks.fits(subject, origin, "request", "m.room.name",
                  one_field_content("name", join(k_request_name_prefix, room.request, k_archived_suffix))) &&
      checks.fits(subject, origin, "request", "m.room.topic",
                  one_field_content("topic", join(k_request_topic_prefix, room.request))) &&
      room.message.empty()) {
    checks.fits(subject, origin, "request", "m.room.message",
                message_content(join(k_request_message_prefix, room.request)));
  }
  if (checks.plain(subject, origin, "message", room.message, true)) {
    checks.fits(subject, origin, "message", "m.room.message", message_content(room.message));
  }
}

// Where a user's ID is decided: its localpart, or its key when the
// localpart was not given.
const SourceLocation& user_id_at(const User& user) {
  return user.origin.fields.count("spec.localpart") ? user.origin.of("spec.localpart")
                                                    : user.origin.of("metadata.name");
}

class IdentifierChecks {
 public:
  IdentifierChecks(const Topology& topology, const Settings& settings) : m_settings(settings) {
    for (const auto& [type, level] : controller_owned_events(settings)) {
      m_base_levels += json_string_bytes(type) + k_level_entry_bytes;
    }
    m_base_levels += k_power_levels_fixed_bytes + json_string_bytes(settings.bot_user_id) + k_level_entry_bytes;
    for (const User& user : topology.users) {
      check_user(user);
    }
  }

  void check_user(const User& user) {
    const std::string user_id = user_id_for(user, m_settings);
    if (user_id.size() > k_max_identifier_bytes) {
      m_diagnostics.push_back({user_id_at(user), describe_object("user", user.name) + ": user id " +
                                                     shortened(user_id) + " would be " +
                                                     std::to_string(user_id.size()) +
                                                     " bytes long; the spec allows at most 255"});
    }
    if (user.deactivated || m_entries.count(user.name)) {
      return;  // not a member anywhere, or a duplicate key (reported elsewhere)
    }
    // Linked accounts sit at the person's level in every room they share.
    Entries entries{1, json_string_bytes(user_id) + k_level_entry_bytes};
    for (const std::string& linked : user.linked_accounts) {
      ++entries.users;
      entries.bytes += json_string_bytes(linked) + k_level_entry_bytes;
    }
    m_entries.emplace(user.name, entries);
  }

  void check_alias(std::string_view kind, const std::string& name, const Origin& origin, const std::string& key) {
    const std::string alias = alias_for(key, m_settings);
    if (alias.size() > k_max_identifier_bytes) {
      m_diagnostics.push_back({origin.of("metadata.name"),
                               describe_object(kind, name) + ": the alias " + shortened(alias) + " would be " +
                                   std::to_string(alias.size()) +
                                   " bytes long; the spec allows at most 255 (shorten the name or aliasPrefix)"});
    }
  }

  // `levels`: the members' levels in the room; those at users_default (0)
  // are not listed in the event.
  void check_levels(std::string_view kind, const std::string& name, const Origin& origin,
                    const std::map<std::string_view, int>& levels) {
    std::size_t users = 1;
    std::size_t bytes = m_base_levels;
    for (const auto& [user, level] : levels) {
      auto found = m_entries.find(user);
      if (level != 0 && found != m_entries.end()) {
        users += found->second.users;
        bytes += found->second.bytes;
      }
    }
    if (bytes > k_max_content_bytes) {
      m_diagnostics.push_back({origin.of("spec.members"),
                               describe_object(kind, name) + ": too many members above level 0 for one "
                                                             "m.room.power_levels event (" +
                                   std::to_string(users) + " users, " + std::to_string(bytes) +
                                   " bytes of content, at most " + std::to_string(k_max_content_bytes) + ")"});
    }
  }

  Diagnostics take() { return std::move(m_diagnostics); }

 private:
  struct Entries {
    std::size_t users = 0;
    std::size_t bytes = 0;
  };

  const Settings& m_settings;
  std::size_t m_base_levels = 0;
  std::unordered_map<std::string_view, Entries> m_entries;
  Diagnostics m_diagnostics;
};

}  // namespace

std::size_t json_string_bytes(std::string_view text) {
  std::size_t bytes = 2;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      bytes += 2;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      bytes += 6;
    } else {
      bytes += 1;
    }
  }
  return bytes;
}

Diagnostics check_texts(const Topology& topology) {
  TextChecks checks;
  for (const User& user : topology.users) {
    const std::string subject = describe_object("user", user.name);
    checks.display_name(subject, user.origin, user.display_name);
    checks.avatar(subject, user.origin, user.avatar_url);
  }
  for (const Community& community : topology.communities) {
    check_community_texts(checks, community);
  }
  for (const Council& council : topology.councils) {
    const std::string subject = describe_object("council", council.name);
    const std::string display = council.display_name.empty() ? council.name : council.display_name;
    checks.room_name(subject, council.origin, "name", council.display_name,
                     join(display, k_discussion_suffix, k_archived_suffix));
    checks.topic(subject, council.origin, "topic", council.topic);
  }
  for (const CoordinationRoom& room : topology.coordination_rooms) {
    check_coordination_texts(checks, room);
  }
  return checks.take();
}

Diagnostics check_limits(const Topology& topology, const Settings& settings) {
  IdentifierChecks checks(topology, settings);
  // Levels by member per community, for its councils (a seat never lowers them).
  std::map<std::string_view, std::map<std::string_view, int>> community_levels;
  std::map<std::string_view, PowerPolicy> policies;
  for (const Community& community : topology.communities) {
    if (!community.matrix_enabled || policies.count(community.name)) {
      continue;
    }
    checks.check_alias("community", community.name, community.origin, community_general_key(community.name));
    const PowerPolicy& policy =
        policies.emplace(community.name, resolve_power_policy(topology, community.power_policy)).first->second;
    std::map<std::string_view, int>& levels = community_levels[community.name];
    for (const CommunityMember& member : community.members) {
      int& level = levels[member.user];
      level = std::max(level, policy.level_for(member.trust, member.role));
    }
    checks.check_levels("community", community.name, community.origin, levels);
  }
  for (const Council& council : topology.councils) {
    auto levels = community_levels.find(council.community);
    if (levels == community_levels.end()) {
      continue;  // no rooms: its community is unknown or not on Matrix
    }
    checks.check_alias("council", council.name, council.origin, council_discussion_key(council.name));
    const PowerPolicy& policy = policies.at(council.community);
    std::map<std::string_view, int> seats;
    for (const CouncilMember& member : council.members) {
      auto found = levels->second.find(member.user);
      int level = found == levels->second.end() ? 0 : found->second;
      if (member.role == CouncilRole::chair) {
        level = std::max(level, policy.chair_level);
      }
      seats[member.user] = std::max(seats[member.user], level);
    }
    checks.check_levels("council", council.name, council.origin, seats);
  }
  // A coordination room's people sit at users_default: only the bot is listed.
  for (const CoordinationRoom& room : topology.coordination_rooms) {
    checks.check_alias("coordination room", room.name, room.origin, coordination_room_key(room.name));
  }
  Diagnostics out = checks.take();
  sort_diagnostics(out);
  return out;
}

}  // namespace model
