// Manifests as hostile input: every text either loads as YAML 1.2 reads it
// or is rejected with a position, quickly. Each case here is one that
// yaml-cpp 0.7 alone would hang on, or read as a different (often emptier)
// manifest, which a plan would then act on.

#include <chrono>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "adapters/manifests/yaml_manifests.h"
#include "tests/support/isolated.h"

namespace yaml_hostile_input_test {

namespace {

using adapters::LoadedManifests;
using adapters::parse_manifests;
using Lines = std::vector<std::string>;

Lines split_lines(const std::string& text) {
  Lines lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    lines.push_back(line);
  }
  return lines;
}

// The diagnostics of `text` as `test.yaml`, read in a child process with a
// time bound: a hang or a crash fails the test instead of stopping the suite
// (a hang also eats memory fast).
Lines check(const std::string& text) {
  const testing_support::Isolated run = testing_support::run_isolated(
      [&] {
        std::string out;
        for (const model::Diagnostic& diagnostic : parse_manifests(text, "test.yaml", 1).diagnostics) {
          out += diagnostic.to_string() + "\n";
        }
        return out;
      },
      std::chrono::seconds(20));
  INFO(run.how);
  REQUIRE(run.status == testing_support::Isolated::Status::done);
  return split_lines(run.output);
}

std::string example(const std::string& name) {
  std::ifstream stream(std::string(MXCTL_SOURCE_DIR) + "/manifests/" + name, std::ios::binary);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

const std::string k_user = "apiVersion: mxctl/v1\nkind: User\nmetadata:\n  name: alice\n";

}  // namespace

TEST_CASE("yaml hostile input: a stray flow indicator is an error, not a hang", "[yaml-hostile]") {
  CHECK(check(",") == Lines{"test.yaml:1:1: invalid yaml: unexpected ','"});
  CHECK(check("--- ,\n") == Lines{"test.yaml:1:5: invalid yaml: unexpected ','"});
  CHECK(check("[a, b],\n") == Lines{"test.yaml:1:7: invalid yaml: unexpected ','"});
  CHECK(check(k_user + "---\n,\n---\n" + replace_all(k_user, "alice", "bob") + "spec: {admn: true}\n") ==
        Lines{
            "test.yaml:6:1: invalid yaml: unexpected ','",
            "test.yaml:12:8: user \"bob\": unknown field \"admn\" (did you mean \"admin\"?)",
        });
}

TEST_CASE("yaml hostile input: a quote left open is reported where it opens", "[yaml-hostile]") {
  const std::string council = R"(apiVersion: mxctl/v1
kind: Council
metadata:
  name: disputes
spec:
  community: riverside
  name: "Dispute Resolution Council
  members:
    - user: grace
      role: chair
    - user: alice
)";
  SECTION("at the end of the file") {
    CHECK(check(council) ==
          Lines{"test.yaml:7:9: invalid yaml: quoted string not closed before the end of the document"});
    CHECK(check(council.substr(0, council.size() - 1)) ==
          Lines{"test.yaml:7:9: invalid yaml: quoted string not closed before the end of the document"});
  }
  SECTION("before the next document, which is still read") {
    CHECK(check(council + "---\n" + k_user + "spec: {admn: true}\n") ==
          Lines{
              "test.yaml:7:9: invalid yaml: quoted string not closed before the end of the document",
              "test.yaml:17:8: user \"alice\": unknown field \"admn\" (did you mean \"admin\"?)",
          });
  }
  SECTION("single quotes, and after quoted strings that do close") {
    CHECK(check("'a': 'it''s'\n\"b\": \"x\\\"\"  # \"c\nc: [d, 'open\n") ==
          Lines{"test.yaml:3:8: invalid yaml: quoted string not closed before the end of the document"});
  }
  SECTION("the whole document") {
    CHECK(check("\"open\nkind: User\n") ==
          Lines{"test.yaml:1:1: invalid yaml: quoted string not closed before the end of the document"});
  }
}

TEST_CASE("yaml hostile input: a key without ':' is an error, also the last one", "[yaml-hostile]") {
  CHECK(check(k_user + "spec:\n  displayName: Alice\n  admin\n") ==
        Lines{"test.yaml:7:3: invalid yaml: expected ':' after \"admin\""});
  CHECK(check(k_user + "spec:\n  displayName: Alice\n  admin") ==
        Lines{"test.yaml:7:3: invalid yaml: expected ':' after \"admin\""});
  CHECK(check(k_user + "spec:\n  displayName: Alice\nadmin\n") ==
        Lines{"test.yaml:7:1: invalid yaml: expected ':' after \"admin\""});
  // A long key is cut short in the message, between characters.
  CHECK(check(k_user + "spec:\n  displayName: Alice\n  " + std::string(39, 'x') + "\xc3\xa9 and more\n") ==
        Lines{"test.yaml:7:3: invalid yaml: expected ':' after \"" + std::string(39, 'x') + "...\""});
  // A key with nothing after its ':' is null, as before.
  CHECK(check(k_user + "spec:\n  displayName:\n") == Lines{});
  CHECK(check(k_user + ": spec\n") == Lines{"test.yaml:5:1: invalid yaml: expected a key before ':'"});
}

TEST_CASE("yaml hostile input: invalid utf-8 is rejected where it is", "[yaml-hostile]") {
  CHECK(check(k_user + "spec: {displayName: \"Al\xffice\"}\n") ==
        Lines{"test.yaml:5:24: invalid yaml: invalid utf-8 byte 0xff"});
  CHECK(check(k_user + "# caf\xe9\n") == Lines{"test.yaml:5:6: invalid yaml: invalid utf-8 byte 0xe9"});
  // Overlong, a surrogate, beyond U+10FFFF, cut short at the end.
  CHECK(check(k_user + "spec: {displayName: \xc0\xaf}\n") ==
        Lines{"test.yaml:5:21: invalid yaml: invalid utf-8 byte 0xc0"});
  CHECK(check(k_user + "spec: {displayName: \xed\xa0\x80}\n") ==
        Lines{"test.yaml:5:21: invalid yaml: invalid utf-8 byte 0xed"});
  CHECK(check(k_user + "spec: {displayName: \xf4\x90\x80\x80}\n") ==
        Lines{"test.yaml:5:21: invalid yaml: invalid utf-8 byte 0xf4"});
  CHECK(check(k_user + "spec: {displayName: x}\n# \xe2\x82") ==
        Lines{"test.yaml:6:3: invalid yaml: invalid utf-8 byte 0xe2"});
  // Valid text in any script is fine.
  CHECK(check(k_user + "spec: {displayName: \"Zo\xc3\xab \xe5\xbc\xa0 \xf0\x9f\x98\x80\"}\n") == Lines{});
  CHECK(check("\xfe\xff" + k_user) ==
        Lines{"test.yaml:1:1: invalid yaml: utf-16 is not supported (save the file as utf-8)"});
}

TEST_CASE("yaml hostile input: control characters are rejected, tabs are not", "[yaml-hostile]") {
  CHECK(check(k_user + "spec: {displayName: Al\x07ice}\n") ==
        Lines{"test.yaml:5:23: invalid yaml: control character U+0007 is not allowed"});
  CHECK(check(k_user + "# \x1b[31mred\n") ==
        Lines{"test.yaml:5:3: invalid yaml: control character U+001B is not allowed"});
  CHECK(check(k_user + std::string("spec: {displayName: A\0}\n", 24)) ==
        Lines{"test.yaml:5:22: invalid yaml: control character U+0000 is not allowed"});
  CHECK(check(k_user + "spec: {displayName: A\x7f}\n") ==
        Lines{"test.yaml:5:22: invalid yaml: control character U+007F is not allowed"});
  CHECK(check(k_user + "spec: {displayName: A\xc2\x9b}\n") ==
        Lines{"test.yaml:5:22: invalid yaml: control character U+009B is not allowed"});
  CHECK(check(k_user + "spec: {displayName: A\xc2\x85}\n") ==
        Lines{"test.yaml:5:22: invalid yaml: character U+0085 is not allowed (yaml 1.1 reads it as a line "
              "break, yaml 1.2 as text)"});
  CHECK(check(k_user + "# \xe2\x80\xa8\n") ==
        Lines{"test.yaml:5:3: invalid yaml: character U+2028 is not allowed (yaml 1.1 reads it as a line "
              "break, yaml 1.2 as text)"});
  // Tabs as separation and in comments (a display name may not hold one:
  // that is validation's rule, not YAML's).
  CHECK(check(k_user + "spec: {displayName: \"A B\"}\t# a\ttab\n") == Lines{});
}

TEST_CASE("yaml hostile input: line ends other than LF and CRLF are rejected", "[yaml-hostile]") {
  const std::string coordination = example("coordination.yaml");
  const std::size_t first_line = coordination.find('\n');
  SECTION("CR only: the whole file is not one comment") {
    CHECK(check(replace_all(coordination, "\n", "\r")) ==
          Lines{"test.yaml:1:" + std::to_string(first_line + 1) +
                ": invalid yaml: carriage return without a line feed (use LF or CRLF line endings)"});
  }
  SECTION("one CR inside a line") {
    CHECK(check(k_user + "spec:\r  admin: true\n") ==
          Lines{"test.yaml:5:6: invalid yaml: carriage return without a line feed (use LF or CRLF line endings)"});
  }
  SECTION("CRLF reads as LF does") {
    const std::string users = example("users.yaml");
    const LoadedManifests lf = parse_manifests(users + coordination, "test.yaml");
    const LoadedManifests crlf = parse_manifests(replace_all(users + coordination, "\n", "\r\n"), "test.yaml");
    CHECK(crlf.diagnostics == lf.diagnostics);
    CHECK(crlf.documents == lf.documents);
    REQUIRE(crlf.topology.coordination_rooms.size() == 2);
    CHECK(crlf.topology.coordination_rooms[1].message == lf.topology.coordination_rooms[1].message);
  }
}

TEST_CASE("yaml hostile input: a byte order mark only at the start", "[yaml-hostile]") {
  CHECK(check("\xef\xbb\xbf" + k_user + "spec: {admn: true}\n") ==
        Lines{"test.yaml:5:8: user \"alice\": unknown field \"admn\" (did you mean \"admin\"?)"});
  CHECK(check(k_user + "spec: {displayName: A\xef\xbb\xbf}\n") ==
        Lines{"test.yaml:5:22: invalid yaml: byte order mark U+FEFF is only allowed at the start of the file"});
}

TEST_CASE("yaml hostile input: a document only starts at --- or after ...", "[yaml-hostile]") {
  // yaml-cpp would start a new document at the stray directive and at the
  // text after the quoted string, dropping what came before from the object.
  CHECK(check(k_user + "spec:\n%YAML 1.2\n  admin: true\n") ==
        Lines{"test.yaml:6:1: invalid yaml: a directive inside a document (directives go before ---)"});
  CHECK(check("\"a document\" that goes on\n") ==
        Lines{"test.yaml:1:14: invalid yaml: unexpected content after the end of the document"});
  CHECK(check("%YAML 1.2\n" + k_user) == Lines{"test.yaml:1:1: invalid yaml: a directive must be followed by ---"});
  CHECK(check(k_user + "...\n[a document after ...] x\n") ==
        Lines{"test.yaml:6:24: invalid yaml: unexpected content after the end of the document"});
  // What YAML 1.2 does allow still loads.
  CHECK(check("%YAML 1.2\n---\n" + k_user + "...\n# next\n" + replace_all(k_user, "alice", "bob")) == Lines{});
}

TEST_CASE("yaml hostile input: what yaml-cpp reads loosely is an error", "[yaml-hostile]") {
  // An empty flow entry: yaml-cpp reads a null there; YAML has none.
  CHECK(check(k_user + "spec: {displayName: Alice, , admin: true}\n") ==
        Lines{"test.yaml:5:28: invalid yaml: expected an entry before ','"});
  CHECK(check(k_user + "spec: {displayName: Alice, admin: , }\n") == Lines{});
  // A value at its key's indentation is a key without ':', even with a
  // comment line after it (yaml-cpp made it the value of the key above).
  CHECK(check(k_user + "spec:\n  displayName:\n  Alice\n  # comment\n") ==
        Lines{"test.yaml:7:3: invalid yaml: expected ':' after \"Alice\""});
  CHECK(check(k_user + "spec:\n  displayName: !!str\n  Alice\n") ==
        Lines{"test.yaml:7:3: invalid yaml: expected ':' after \"Alice\""});
  CHECK(check(k_user + "spec:\n  displayName: !!str\n    Alice\n") == Lines{});
  CHECK(check(k_user + "spec:\n  displayName:\n  !!str\n    Alice\n") ==
        Lines{"test.yaml:7:3: invalid yaml: expected ':' after \"Alice\""});
  // Directives: only %YAML and %TAG, well formed.
  CHECK(check("%FOO bar\n---\n" + k_user) ==
        Lines{"test.yaml:1:1: invalid yaml: unknown directive \"%FOO\" (only %YAML and %TAG are known)"});
  CHECK(check("%TAG !x tag:x,2024:\n---\n" + k_user) == Lines{"test.yaml:1:6: invalid yaml: invalid %TAG directive"});
  CHECK(check("%YAML 1.3\n---\n" + k_user) == Lines{"test.yaml:1:7: invalid yaml: invalid %YAML directive"});
  CHECK(check("%YAML 1.1\n---\n" + k_user) == Lines{});
  // Tags and anchors: a handle no directive defines, a name yaml-cpp and
  // libyaml would cut differently, a property run into its node.
  CHECK(check(k_user + "spec: {displayName: !x!y Alice}\n") ==
        Lines{"test.yaml:5:21: invalid yaml: undefined tag handle \"!x!\""});
  CHECK(check(k_user + "spec: {displayName: &a:b Alice}\n") ==
        Lines{"test.yaml:5:23: invalid yaml: invalid character in an anchor name (letters, digits, '-' and '_' "
              "only)"});
  CHECK(check(k_user + "spec: !t{admin: true}\n") ==
        Lines{"test.yaml:5:9: invalid yaml: expected a space after the tag"});
  // Empty lines ending a quoted string: yaml-cpp keeps one line break of them.
  CHECK(check(k_user + "spec:\n  displayName: 'Alice\n\n\n    '\n") ==
        Lines{"test.yaml:9:5: invalid yaml: empty lines before a closing quote are misread by the parser (write "
              "\\n)"});
  CHECK(check(k_user + "spec:\n  displayName: 'Alice\n    Liddell'\n") == Lines{});
  // A tag ending a file without a line break: yaml-cpp drops it.
  CHECK(check(k_user + "spec: !!map") ==
        Lines{"test.yaml:5:7: invalid yaml: a tag with nothing after it ends the file (end the file with a line "
              "break)"});
  // A tab as indentation: yaml-cpp counts it as one column.
  CHECK(check(k_user + "spec:\n\tadmin: true\n") ==
        Lines{"test.yaml:6:2: invalid yaml: indentation must use spaces, not tabs"});
}

TEST_CASE("yaml hostile input: the example manifests cut short anywhere never load as less", "[yaml-hostile]") {
  // Every prefix of a council file either fails or holds the members it
  // shows: none silently loses a member that the text still has.
  const std::string councils = example("councils.yaml");
  const std::string people = example("users.yaml") + example("communities.yaml");
  for (std::size_t cut = 0; cut <= councils.size(); cut += 7) {
    INFO("cut at " << cut);
    const std::string text = councils.substr(0, cut);
    const LoadedManifests loaded = parse_manifests(people + "\n---\n" + text, "test.yaml");
    std::size_t members = 0;
    for (const model::Council& council : loaded.topology.councils) {
      members += council.members.size();
    }
    std::size_t written = 0;
    for (std::size_t at = text.find("- user: "); at != std::string::npos; at = text.find("- user: ", at + 1)) {
      ++written;
    }
    if (loaded.diagnostics.empty()) {
      CHECK(members == written);
    }
  }
}

}  // namespace yaml_hostile_input_test
