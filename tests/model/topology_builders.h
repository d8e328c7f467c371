#pragma once
// Small builders for topologies in model tests, shared so every test file
// spells a user, a member and the example settings the same way.

#include <string>

#include "model/settings.h"
#include "model/topology.h"

namespace model::test_builders {

inline const std::string k_bot = "@mxctl:example.org";

/// Settings for server "example.org" with the bot above.
inline Settings example_settings() {
  Settings settings;
  settings.server_name = "example.org";
  settings.bot_user_id = k_bot;
  return settings;
}

/// A user whose localpart is its name.
inline User make_user(const std::string& name) {
  User user;
  user.name = name;
  user.localpart = name;
  return user;
}

/// A community member with a trust score and role.
inline CommunityMember member(const std::string& user, int trust, CommunityRole role = CommunityRole::member) {
  CommunityMember m;
  m.user = user;
  m.trust = trust;
  m.role = role;
  return m;
}

/// A council seat.
inline CouncilMember seat(const std::string& user, CouncilRole role = CouncilRole::member) {
  CouncilMember m;
  m.user = user;
  m.role = role;
  return m;
}

}  // namespace model::test_builders
