#pragma once
// A synthetic FT-17 instance for benchmarks: users, communities with trust
// scores, councils and coordination rooms, generated deterministically from
// a seed so that every run (and every machine) measures the same instance.
// Plain data, independent of mxctl's model so the benchmark cannot bend
// what it measures; the manifest and database writers turn it into input.

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

/// How big an instance is. The named sizes are those of issue #7.
struct InstanceSize {
  std::string name;  ///< "S", "M", "L" (or "custom")
  int users = 0;
  int communities = 0;
  int councils = 0;
  int coordination_rooms = 0;
  int community_members = 0;  ///< average members per community (sizes vary ±50%)
  int council_members = 0;    ///< average members per council (sizes vary ±50%)
};

/// The size called `name` ("S", "M" or "L", case-insensitive); a size with
/// an empty `name` when there is no such size.
InstanceSize size_named(const std::string& name);

struct GenUser {
  std::string key;           ///< also the localpart
  std::string display_name;  ///< empty: not managed
  bool admin = false;        ///< server admin
};

struct GenCommunityMember {
  int user = 0;  ///< index into Instance::users
  int trust = 0;
  bool admin = false;
};

struct GenCommunity {
  std::string key;
  std::string name;
  std::string topic;
  std::vector<GenCommunityMember> members;
};

struct GenCouncil {
  std::string key;
  int community = 0;  ///< index into Instance::communities
  std::string name;
  std::string topic;
  std::vector<int> members;  ///< user indices, all members of the community; the first is the chair
};

struct GenCoordination {
  std::string key;
  int first = 0;  ///< user index
  int second = 0;
  std::string request;
};

/// A whole instance.
struct Instance {
  InstanceSize size;
  std::uint64_t seed = 0;
  std::vector<GenUser> users;
  std::vector<GenCommunity> communities;
  std::vector<GenCouncil> councils;
  std::vector<GenCoordination> coordination_rooms;

  /// Rooms the controller will manage: a space and a general room per
  /// community, a space and a discussion room per council, one DM each.
  std::size_t rooms() const;
  /// Memberships of people in those rooms (the bot's own not counted).
  std::size_t memberships() const;
};

/// The instance of `size` for `seed`. Same inputs, same instance, on every
/// platform (own PRNG, no std distributions). Trust scores cover every
/// FT-17 band (0-4, 5-14, 15-29, 30+); each community has one admin.
Instance generate(const InstanceSize& size, std::uint64_t seed);

/// Puts `prefix` before every key of `instance` (users' keys are their
/// localparts too), so that two instances can live on one server.
void prefix_keys(Instance& instance, const std::string& prefix);

/// A trust score in another FT-17 band than `trust` (the next band up, or the
/// band below from the top one), for "change one trust score".
int trust_in_other_band(int trust);

}  // namespace bench
