#pragma once
// The application's view of the world, as declared in manifests or read from
// the app database: people, communities, councils, coordination rooms and the
// policy that turns trust into power. Nothing Matrix-specific lives here; the
// compiler (compile.h) derives the Matrix state from it.

#include <optional>
#include <string>
#include <vector>

#include "model/diagnostic.h"

namespace model {

/// A person's account on our homeserver (manifest kind `User`).
struct User {
  /// Stable key (`metadata.name`), `[a-z0-9][a-z0-9-]*`.
  std::string name;
  /// Matrix localpart; the loader fills it with `name` when not given.
  std::string localpart;
  std::optional<std::string> display_name;
  /// An `mxc://server/media-id` URI.
  std::optional<std::string> avatar_url;
  /// Server admin on the homeserver (not a room role).
  bool admin = false;
  /// The same person's accounts on other homeservers (full MXIDs, seed 004):
  /// invited wherever this user is, with the same power level.
  std::vector<std::string> linked_accounts;
  /// A deactivated person's account is suspended, never erased.
  bool deactivated = false;
  /// `protect: true`: removing the user from the desired state is refused
  /// (its account would be suspended).
  bool protect = false;
  Origin origin;
};

/// A community member's role; `admin` maps to the policy's admin level.
enum class CommunityRole { member, admin };

/// A council member's role; `chair` maps to the policy's chair level.
enum class CouncilRole { member, chair };

struct CommunityMember {
  /// Key of a `User`.
  std::string user;
  /// Trust score, >= 0.
  int trust = 0;
  CommunityRole role = CommunityRole::member;
  Origin origin;
};

/// The community's general chat room (FT-17: unencrypted by default).
struct GeneralRoom {
  /// Empty means "<community name> General".
  std::string name;
  std::string topic;
  bool encrypted = false;
};

/// A community: a Matrix space with a general room (manifest kind `Community`).
struct Community {
  std::string name;
  /// Human-readable name (`spec.name`).
  std::string display_name;
  std::string topic;
  std::optional<std::string> avatar_url;
  GeneralRoom general_room;
  std::vector<CommunityMember> members;
  /// FT-17 `matrixEnabled`: false means the community has no Matrix presence.
  bool matrix_enabled = true;
  /// Key of a `PowerPolicy`; empty means the built-in FT-17 policy.
  std::string power_policy;
  bool archived = false;
  /// `protect: true`: its rooms are never hard-deleted, and removing it from
  /// the desired state is refused (terraform's prevent_destroy).
  bool protect = false;
  Origin origin;
};

struct CouncilMember {
  std::string user;
  CouncilRole role = CouncilRole::member;
  Origin origin;
};

/// A council: a nested, always-encrypted space with a discussion room.
struct Council {
  std::string name;
  /// Key of the `Community` it belongs to.
  std::string community;
  std::string display_name;
  std::string topic;
  std::vector<CouncilMember> members;
  /// As declared; FT-17 forbids `false` (validation rejects it).
  bool encrypted = true;
  bool archived = false;
  /// `protect: true`: its rooms are never hard-deleted, and removing it from
  /// the desired state is refused (terraform's prevent_destroy).
  bool protect = false;
  Origin origin;
};

/// FT-17's request-coordination DM between a requester and an owner.
/// Always encrypted.
struct CoordinationRoom {
  std::string name;
  /// Two distinct `User` keys.
  std::vector<std::string> between;
  /// The request's id or URL, shown in the topic and the context message.
  std::string request;
  /// The context message, sent once when the room is created.
  std::string message;
  /// As declared; FT-17 forbids `false` (validation rejects it).
  bool encrypted = true;
  bool archived = false;
  /// `protect: true`: its rooms are never hard-deleted, and removing it from
  /// the desired state is refused (terraform's prevent_destroy).
  bool protect = false;
  Origin origin;
};

/// One row of the trust table: from `min_trust` upwards (until the next band)
/// members get `level`.
struct TrustBand {
  int min_trust = 0;
  int level = 0;
  bool operator==(const TrustBand&) const = default;
};

/// Trust thresholds → power levels, and the room thresholds they imply.
/// Defaults are exactly FT-17's table.
struct PowerPolicy {
  std::string name;
  /// Sorted by `min_trust`, first band starts at 0.
  std::vector<TrustBand> bands = {{0, 0}, {5, 10}, {15, 25}, {30, 50}};
  /// Community `admin` role.
  int admin_level = 100;
  /// Council `chair` role (at least this level in the council's rooms).
  int chair_level = 50;
  /// Room thresholds: FT-17 says trust 15+ (level 25) may invite and
  /// trust 30+ (level 50) may kick, ban and redact.
  int invite = 25;
  int kick = 50;
  int ban = 50;
  int redact = 50;
  int events_default = 0;
  int state_default = 50;
  Origin origin;

  /// FT-17's policy, named "default".
  static PowerPolicy ft17();
  /// Level for a trust score (the band containing it); `trust` < 0 counts as 0.
  int level_for_trust(int trust) const;
  /// Level for a community member: admin_level for admins, else by trust.
  int level_for(int trust, CommunityRole role) const;
};

/// Everything declared, from every source, before any Matrix concern.
struct Topology {
  std::vector<User> users;
  std::vector<Community> communities;
  std::vector<Council> councils;
  std::vector<CoordinationRoom> coordination_rooms;
  std::vector<PowerPolicy> power_policies;

  /// Lookups by key; nullptr when absent.
  const User* find_user(std::string_view name) const;
  const Community* find_community(std::string_view name) const;
  const PowerPolicy* find_power_policy(std::string_view name) const;
};

}  // namespace model
