// The spec files the tests read are vendored in tests/spec/ and listed in its
// FILES: a file missing from the tree, one the list does not know, or a $ref
// naming a file that is not there fails here, by name, rather than as a
// confusing validation error (or a silently skipped check) somewhere else.

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "tests/support/spec_schema.h"

namespace spec::spec_subset_test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// Not data_dir(): that may point at an upstream copy while the subset is refreshed.
const fs::path k_vendored = fs::path(MXCTL_SPEC_DATA_DIR);

std::set<std::string> listed_files() {
  std::ifstream in(k_vendored.parent_path() / "FILES");
  REQUIRE(in);
  std::set<std::string> files;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      files.insert(line);
    }
  }
  return files;
}

std::set<std::string> vendored_files() {
  std::set<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(k_vendored)) {
    if (entry.is_regular_file()) {
      files.insert(entry.path().lexically_relative(k_vendored).generic_string());
    }
  }
  return files;
}

// Every "$ref" string in `node`, the spec's schemas and examples alike.
void collect_refs(const json& node, std::vector<std::string>& refs) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "$ref" && value.is_string()) {
        refs.push_back(value.get<std::string>());
      } else {
        collect_refs(value, refs);
      }
    }
  } else if (node.is_array()) {
    for (const json& item : node) {
      collect_refs(item, refs);
    }
  }
}

TEST_CASE("spec subset: every file listed in FILES is vendored, and only those", "[spec_subset]") {
  const std::set<std::string> listed = listed_files();
  const std::set<std::string> present = vendored_files();
  CHECK(listed.size() > 100);
  std::vector<std::string> missing;
  std::vector<std::string> unlisted;
  for (const std::string& file : listed) {
    if (!present.count(file)) {
      missing.push_back("tests/spec/matrix-spec-v1.16/data/" + file);
    }
  }
  for (const std::string& file : present) {
    if (!listed.count(file)) {
      unlisted.push_back("tests/spec/matrix-spec-v1.16/data/" + file);
    }
  }
  INFO("refresh with scripts/refresh-spec-subset (tests/spec/matrix-spec-v1.16/README.md)");
  CHECK(missing == std::vector<std::string>{});
  CHECK(unlisted == std::vector<std::string>{});
}

TEST_CASE("spec subset: every $ref in the vendored files names a vendored file", "[spec_subset]") {
  // The copy of the spec this subset was taken from has no api/identity/,
  // which these two name; no test reaches the client-server parts using them.
  const std::set<std::string> k_absent_upstream = {"api/identity/definitions/request_email_validation.yaml",
                                                   "api/identity/definitions/request_msisdn_validation.yaml"};
  std::vector<std::string> dangling;
  for (const std::string& file : vendored_files()) {
    if (fs::path(file).extension() != ".yaml" && fs::path(file).extension() != ".json") {
      continue;
    }
    // Read directly, not through schema_at(), so a refresh's trace of what
    // the tests load never lists the vendored copies.
    std::ifstream in(k_vendored / file);
    std::vector<std::string> refs;
    collect_refs(yaml_to_json(std::string(std::istreambuf_iterator<char>(in), {})), refs);
    for (const std::string& ref : refs) {
      const std::string target_file = ref.substr(0, ref.find('#'));
      if (target_file.empty()) {
        continue;
      }
      const fs::path target = (k_vendored / file).parent_path() / target_file;
      const std::string relative = target.lexically_normal().lexically_relative(k_vendored).generic_string();
      if (!fs::exists(target) && !k_absent_upstream.count(relative)) {
        dangling.push_back("tests/spec/matrix-spec-v1.16/data/" + file + ": $ref " + ref + " names " + relative +
                           ", which is not vendored");
      }
    }
  }
  INFO("refresh with scripts/refresh-spec-subset (tests/spec/matrix-spec-v1.16/README.md)");
  CHECK(dangling == std::vector<std::string>{});
}

}  // namespace
}  // namespace spec::spec_subset_test
