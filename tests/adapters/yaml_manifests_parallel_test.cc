#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "adapters/manifests/yaml_manifests.h"
#include "tests/support/temp_dir.h"

namespace yaml_manifests_parallel_test {

namespace {

using adapters::LoadedManifests;
using Lines = std::vector<std::string>;

std::string where(const model::Origin& origin) {
  std::string out = origin.object.to_string();
  for (const auto& [field, at] : origin.fields) {
    out += " " + field + "@" + at.to_string();
  }
  return out;
}

// Everything a load produced, one line per diagnostic, object and member, in
// order: two loads are the same when these are.
Lines everything(const LoadedManifests& loaded) {
  Lines out{"documents " + std::to_string(loaded.documents)};
  out.insert(out.end(), loaded.files.begin(), loaded.files.end());
  for (const model::Diagnostic& diagnostic : loaded.diagnostics) {
    out.push_back(diagnostic.to_string());
  }
  const model::Topology& topology = loaded.topology;
  for (const model::User& user : topology.users) {
    out.push_back("user " + user.name + " " + user.localpart + " " + where(user.origin));
  }
  for (const model::Community& community : topology.communities) {
    out.push_back("community " + community.name + " " + where(community.origin));
    for (const model::CommunityMember& member : community.members) {
      out.push_back("  " + member.user + " " + std::to_string(member.trust) + " " + where(member.origin));
    }
  }
  for (const model::Council& council : topology.councils) {
    out.push_back("council " + council.name + " " + where(council.origin));
  }
  for (const model::CoordinationRoom& room : topology.coordination_rooms) {
    out.push_back("coordination room " + room.name + " " + where(room.origin));
  }
  for (const model::PowerPolicy& policy : topology.power_policies) {
    out.push_back("power policy " + policy.name + " " + where(policy.origin));
  }
  return out;
}

// Many documents, with problems spread over all of them: structural ones
// (unknown fields, syntax errors, wrong types) and semantic ones that span
// documents far apart (a name defined twice, a reference to a user).
std::string manifest_set(int users, int salt) {
  std::string text = "# generated\n";
  for (int i = 0; i < users; ++i) {
    const std::string name = "user-" + std::to_string(i % (users - 3));
    text += "---\napiVersion: mxctl/v1\nkind: User\nmetadata: {name: " + name + "}\nspec:\n  displayName: U" +
            std::to_string(i) + "\n";
    if ((i + salt) % 7 == 0) {
      text += "  admn: true\n";
    }
    if ((i + salt) % 11 == 0) {
      text += "  protect: [oops\n";
    }
    if ((i + salt) % 13 == 0) {
      text += "...\n# between documents\n";
    }
  }
  text += "---\napiVersion: mxctl/v1\nkind: Community\nmetadata: {name: c}\nspec:\n  name: C\n  members:\n";
  for (int i = 0; i < users; i += 5) {
    text += "    - {user: user-" + std::to_string(i * 3) + ", trust: " + std::to_string(i) + "}\n";
  }
  return text;
}

}  // namespace

TEST_CASE("manifests: reading on several threads gives what one thread gives", "[manifests]") {
  SECTION("one text") {
    for (int salt = 0; salt < 3; ++salt) {
      const std::string text = manifest_set(200, salt);
      const Lines one = everything(adapters::parse_manifests(text, "set.yaml", 1));
      REQUIRE(one.size() > 200);
      auto mentions = [&](const std::string& part) {
        return std::any_of(one.begin(), one.end(), [&](const std::string& line) { return line.find(part) != line.npos; });
      };
      REQUIRE(mentions("invalid yaml"));
      REQUIRE(mentions("unknown field \"admn\""));
      REQUIRE(mentions("already defined at"));
      REQUIRE(mentions("unknown user"));
      for (std::size_t threads : {2, 3, 8, 1000}) {
        INFO("threads " << threads << ", salt " << salt);
        CHECK(everything(adapters::parse_manifests(text, "set.yaml", threads)) == one);
      }
      CHECK(everything(adapters::parse_manifests(text, "set.yaml")) == one);
    }
  }
  SECTION("several files") {
    testing_support::TempDir dir;
    dir.write("a.yaml", manifest_set(50, 1));
    dir.write("b/b.yaml", manifest_set(120, 2));
    dir.write("c.yml", "");
    dir.write("d.yaml", manifest_set(7, 3));
    const std::vector<std::string> paths = {dir.path().string(), (dir.path() / "missing.yaml").string()};
    for (adapters::ManifestChecks checks : {adapters::ManifestChecks::all, adapters::ManifestChecks::structural_only}) {
      const Lines one = everything(adapters::load_manifests(paths, checks, 1));
      for (std::size_t threads : {2, 4, 0}) {
        INFO("threads " << threads);
        CHECK(everything(adapters::load_manifests(paths, checks, threads)) == one);
      }
    }
  }
}

}  // namespace yaml_manifests_parallel_test
