#include "model/topology.h"

#include <algorithm>

namespace model {

namespace {

template <typename T>
const T* find_by_name(const std::vector<T>& items, std::string_view name) {
  auto it = std::find_if(items.begin(), items.end(), [&](const T& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

PowerPolicy PowerPolicy::ft17() {
  PowerPolicy policy;
  policy.name = "default";
  return policy;
}

int PowerPolicy::level_for_trust(int trust) const {
  int level = 0;
  // Bands are sorted ascending, so the last band whose floor we reach wins.
  for (const TrustBand& band : bands) {
    if (trust >= band.min_trust) {
      level = band.level;
    }
  }
  return level;
}

int PowerPolicy::level_for(int trust, CommunityRole role) const {
  if (role == CommunityRole::admin) {
    return admin_level;
  }
  return level_for_trust(trust);
}

const User* Topology::find_user(std::string_view name) const { return find_by_name(users, name); }

const Community* Topology::find_community(std::string_view name) const {
  return find_by_name(communities, name);
}

const PowerPolicy* Topology::find_power_policy(std::string_view name) const {
  return find_by_name(power_policies, name);
}

}  // namespace model
