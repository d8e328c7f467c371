#include "adapters/manifests/yaml_tree.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

namespace yaml_tree_test {

namespace {

using adapters::manifest_yaml::Node;
using adapters::manifest_yaml::Tree;

std::vector<Node> parse(Tree& tree, const std::string& text) { return tree.parse(text); }

std::string where(const YAML::Mark& mark) { return std::to_string(mark.line) + ":" + std::to_string(mark.column); }

// Both trees, side by side, as one line per node: the readers may only ever
// see what yaml-cpp's own YAML::Node would have shown them.
void describe(const YAML::Node& node, const std::string& indent, std::string& out) {
  out += indent + where(node.Mark()) + " ";
  if (node.IsMap()) {
    out += "map\n";
    for (const auto& entry : node) {
      describe(entry.first, indent + "  k ", out);
      describe(entry.second, indent + "  v ", out);
    }
  } else if (node.IsSequence()) {
    out += "list\n";
    for (const YAML::Node& child : node) {
      describe(child, indent + "  ", out);
    }
  } else if (node.IsScalar()) {
    out += "scalar " + node.Tag() + " [" + node.Scalar() + "]\n";
  } else {
    out += "null\n";
  }
}

void describe(const Node& node, const std::string& indent, std::string& out) {
  out += indent + where(node.mark()) + " ";
  if (node.is_map()) {
    out += "map\n";
    for (std::size_t i = 0; i < node.size(); ++i) {
      describe(node.key(i), indent + "  k ", out);
      describe(node.value(i), indent + "  v ", out);
    }
  } else if (node.is_list()) {
    out += "list\n";
    for (std::size_t i = 0; i < node.size(); ++i) {
      describe(node.item(i), indent + "  ", out);
    }
  } else if (node.is_scalar()) {
    out += "scalar " + std::string(node.tag()) + " [" + std::string(node.scalar()) + "]\n";
  } else {
    out += "null\n";
  }
}

std::string described_by_yaml_cpp(const std::string& text) {
  std::string out;
  for (const YAML::Node& document : YAML::LoadAll(text)) {
    describe(document, "", out);
  }
  return out;
}

std::string described_by_tree(const std::string& text) {
  Tree tree;
  std::string out;
  for (const Node& document : parse(tree, text)) {
    describe(document, "", out);
  }
  return out;
}

}  // namespace

TEST_CASE("yaml tree: every node is what YAML::LoadAll makes of it", "[yaml-tree]") {
  const char* texts[] = {
      "apiVersion: mxctl/v1\nkind: User\nmetadata: {name: alice}\nspec:\n  admin: true\n  linkedAccounts: [a, 'b']\n",
      "members:\n  - {user: bob, trust: 5}\n  - user: \"carol\"\n    role: admin\n  -\n  - ~\n  - null\n",
      "key:\nother: ~\nquoted: \"~\"\nempty: ''\nint: 42\ntagged: !!str 42\ncustom: !thing x\n",
      "a: &anchor {x: 1}\nb: *anchor\nc: &s scalar\nd: [*s, *s]\n",
      "? [complex, key]\n: value\n? {map: key}\n: other\n~: null key\n",
      "dup: 1\ndup: 2\nnested:\n  dup: [1]\n  dup: {}\n",
      "text: |\n  line one\n  line two\nfolded: >\n  a\n  b\n",
      "--- first\n--- [second]\n---\n...\n--- {third: 3}\n",
      "%YAML 1.2\n%TAG !e! tag:example.org,2024:\n---\nv: !e!thing x\n",
      "",
      "# only a comment\n",
  };
  for (const char* text : texts) {
    INFO(text);
    CHECK(described_by_tree(text) == described_by_yaml_cpp(text));
  }
}

TEST_CASE("yaml tree: an alias inside its own anchor is the node itself", "[yaml-tree]") {
  Tree tree;
  const std::vector<Node> roots = parse(tree, "self: &self [*self, x]\n");
  REQUIRE(roots.size() == 1);
  const Node list = roots[0].find("self");
  REQUIRE(list.is_list());
  REQUIRE(list.size() == 2);
  CHECK(list.item(0).is_list());
  CHECK(list.item(0).item(1).scalar() == "x");
  CHECK(where(list.item(0).mark()) == where(list.mark()));
}

TEST_CASE("yaml tree: lookups find the first scalar key", "[yaml-tree]") {
  Tree tree;
  const std::vector<Node> roots = parse(tree, "? [name]\n: list key\nname: first\nname: second\n\"quoted\": q\n");
  REQUIRE(roots.size() == 1);
  const Node& map = roots[0];
  CHECK(map.size() == 4);
  CHECK(map.find("name").scalar() == "first");
  CHECK(map.find("quoted").scalar() == "q");
  CHECK(map.find("missing").is_null());
  CHECK(map.find("name").find("anything").is_null());
}

TEST_CASE("yaml tree: an absent node is null with a null mark", "[yaml-tree]") {
  const Node absent;
  CHECK(absent.is_null());
  CHECK_FALSE(absent.is_scalar());
  CHECK_FALSE(absent.is_map());
  CHECK_FALSE(absent.is_list());
  CHECK(absent.mark().is_null());
  CHECK(absent.scalar().empty());
  CHECK(absent.tag().empty());
  CHECK(absent.size() == 0);
  CHECK(absent.find("x").is_null());
}

TEST_CASE("yaml tree: a syntax error throws yaml-cpp's exception and mark", "[yaml-tree]") {
  Tree tree;
  std::string expected;
  try {
    YAML::LoadAll("a: [1, 2\nb: c\n");
  } catch (const YAML::Exception& error) {
    expected = error.msg + " at " + where(error.mark);
  }
  REQUIRE_FALSE(expected.empty());
  std::string thrown;
  try {
    parse(tree, "a: [1, 2\nb: c\n");
  } catch (const YAML::Exception& error) {
    thrown = error.msg + " at " + where(error.mark);
  }
  CHECK(thrown == expected);
  // The tree is reusable afterwards.
  const std::vector<Node> roots = parse(tree, "fine: yes\n");
  REQUIRE(roots.size() == 1);
  CHECK(roots[0].find("fine").scalar() == "yes");
}

}  // namespace yaml_tree_test
