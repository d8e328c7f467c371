#include "bench/instance.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

namespace bench {

namespace {

// splitmix64: tiny, and unlike std::uniform_int_distribution its output is
// the same with every standard library, so a seed names one instance.
class Random {
 public:
  explicit Random(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [low, high]; the modulo bias is far below what matters here.
  int between(int low, int high) { return low + static_cast<int>(next() % static_cast<std::uint64_t>(high - low + 1)); }
  template <typename T>
  const T& pick(const std::vector<T>& items) {
    return items[next() % items.size()];
  }

 private:
  std::uint64_t m_state;
};

const std::vector<std::string> k_first_names = {
    "Ada",   "Bea",  "Cyril", "Dana",   "Emeka", "Farah", "Goran", "Hana", "Ines",  "Jonas", "Kofi", "Lena",
    "Mateo", "Nora", "Omar",  "Priya", "Quinn", "Rosa",  "Sven",  "Tala", "Ugo",   "Vera",  "Wen",  "Yusuf"};
const std::vector<std::string> k_last_names = {
    "Abara", "Berg",   "Costa",  "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ivanova", "Jensen",
    "Kaur",  "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Santos", "Tanaka", "Weber"};
const std::vector<std::string> k_places = {"Riverside", "Harbor",  "Hilltop", "Meadow", "Old Town", "Northgate",
                                           "Lakeside",  "Orchard", "Mill",    "Quarry", "Station",  "Common"};
const std::vector<std::string> k_things = {"Tool Library", "Food Share",  "Repair Cafe", "Seed Exchange",
                                           "Time Bank",    "Book Swap",   "Bike Kitchen", "Garden Club",
                                           "Toy Library",  "Craft Circle"};
const std::vector<std::string> k_councils = {"Dispute Resolution Council", "Stewards Council", "Finance Council",
                                             "Safety Council",             "Events Council",   "Membership Council"};

std::string numbered(const char* prefix, int number, int width) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s-%0*d", prefix, width, number);
  return buffer;
}

// `count` distinct values from [0, limit), in the order drawn.
std::vector<int> distinct(Random& random, int count, int limit) {
  count = std::min(count, limit);
  std::vector<int> out;
  std::set<int> seen;
  while (static_cast<int>(out.size()) < count) {
    int value = random.between(0, limit - 1);
    if (seen.insert(value).second) {
      out.push_back(value);
    }
  }
  return out;
}

// A size varying ±50% around `average`, at least `minimum`.
int varied(Random& random, int average, int minimum) {
  return std::max(minimum, random.between(average / 2, average + average / 2));
}

}  // namespace

InstanceSize size_named(const std::string& name) {
  std::string upper;
  for (char c : name) {
    upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  // Member averages are chosen so L has the issue's ~150,000 memberships:
  // 500 × 110 × 2 + 1,500 × 12 × 2 + 2,000 × 2.
  if (upper == "S") {
    return {"S", 100, 10, 10, 20, 20, 5};
  }
  if (upper == "M") {
    return {"M", 2000, 100, 300, 400, 100, 10};
  }
  if (upper == "L") {
    return {"L", 10000, 500, 1500, 2000, 110, 12};
  }
  return {};
}

std::size_t Instance::rooms() const { return 2 * communities.size() + 2 * councils.size() + coordination_rooms.size(); }

std::size_t Instance::memberships() const {
  std::size_t total = 2 * coordination_rooms.size();
  for (const GenCommunity& community : communities) {
    total += 2 * community.members.size();
  }
  for (const GenCouncil& council : councils) {
    total += 2 * council.members.size();
  }
  return total;
}

Instance generate(const InstanceSize& size, std::uint64_t seed) {
  Instance instance;
  instance.size = size;
  instance.seed = seed;
  Random random(seed);
  int user_width = size.users >= 10000 ? 5 : 4;
  for (int i = 0; i < size.users; ++i) {
    GenUser user;
    user.key = numbered("user", i + 1, user_width);
    // Most people set a display name; some leave it to the server.
    if (random.between(0, 9) < 8) {
      user.display_name = random.pick(k_first_names) + " " + random.pick(k_last_names);
    }
    user.admin = i == 0;
    instance.users.push_back(std::move(user));
  }
  for (int i = 0; i < size.communities; ++i) {
    GenCommunity community;
    community.key = numbered("community", i + 1, 4);
    community.name = random.pick(k_places) + " " + random.pick(k_things) + " " + std::to_string(i + 1);
    community.topic = "Sharing and mutual aid around " + community.name;
    for (int user : distinct(random, varied(random, size.community_members, 2), size.users)) {
      GenCommunityMember member;
      member.user = user;
      // 0..49 puts 10% in 0-4, 20% in 5-14, 30% in 15-29 and 40% in 30+.
      member.trust = random.between(0, 49);
      community.members.push_back(member);
    }
    community.members.front().admin = true;
    instance.communities.push_back(std::move(community));
  }
  for (int i = 0; i < size.councils; ++i) {
    GenCouncil council;
    council.key = numbered("council", i + 1, 4);
    // Round robin, so every community gets its share of councils.
    council.community = i % size.communities;
    const GenCommunity& community = instance.communities[council.community];
    council.name = random.pick(k_councils) + " " + std::to_string(i + 1);
    council.topic = "Confidential business of the " + council.name;
    int count = varied(random, size.council_members, 1);
    for (int index : distinct(random, count, static_cast<int>(community.members.size()))) {
      council.members.push_back(community.members[index].user);
    }
    instance.councils.push_back(std::move(council));
  }
  for (int i = 0; i < size.coordination_rooms; ++i) {
    GenCoordination room;
    room.key = numbered("request", i + 1, 6);
    std::vector<int> pair = distinct(random, 2, size.users);
    room.first = pair[0];
    room.second = pair[1];
    room.request = "https://communities.example.org/requests/" + std::to_string(100000 + i);
    instance.coordination_rooms.push_back(std::move(room));
  }
  return instance;
}

void prefix_keys(Instance& instance, const std::string& prefix) {
  for (GenUser& user : instance.users) {
    user.key = prefix + user.key;
  }
  for (GenCommunity& community : instance.communities) {
    community.key = prefix + community.key;
  }
  for (GenCouncil& council : instance.councils) {
    council.key = prefix + council.key;
  }
  for (GenCoordination& room : instance.coordination_rooms) {
    room.key = prefix + room.key;
  }
}

int trust_in_other_band(int trust) {
  if (trust < 5) {
    return 10;
  }
  if (trust < 15) {
    return 20;
  }
  if (trust < 30) {
    return 40;
  }
  return 20;
}

}  // namespace bench
