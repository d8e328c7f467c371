#include "tests/support/spec_schema.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>

#include "tests/support/temp_dir.h"

namespace spec::spec_schema_test {
namespace {

using nlohmann::json;
using Errors = std::vector<std::string>;
namespace fs = std::filesystem;

// Validates `instance` against a schema written inline as YAML.
Errors check(const std::string& schema_yaml, const json& instance) {
  return validate(instance, schema_from_yaml(schema_yaml, data_dir() / "inline.yaml"));
}

// ---- YAML conversion ----------------------------------------------------------

TEST_CASE("spec schema: yaml scalars are typed only when plain", "[spec_schema]") {
  json value = yaml_to_json(R"(
plain_int: 12
quoted_int: "12"
plain_float: 1.5
plain_true: true
quoted_true: 'true'
yes_is_a_string: yes
empty:
tilde: ~
big: 1432735824653
block: |
  12
text: s72594_4483_1934
explicit: !!str 7
list: [1, "1", {"a": false}]
)");
  CHECK(value["plain_int"] == json(12));
  CHECK(value["quoted_int"] == json("12"));
  CHECK(value["plain_float"] == json(1.5));
  CHECK(value["plain_true"] == json(true));
  CHECK(value["quoted_true"] == json("true"));
  CHECK(value["yes_is_a_string"] == json("yes"));
  CHECK(value["empty"].is_null());
  CHECK(value["tilde"].is_null());
  CHECK(value["big"] == json(1432735824653));
  CHECK(value["block"] == json("12\n"));
  CHECK(value["text"] == json("s72594_4483_1934"));
  CHECK(value["explicit"] == json("7"));
  CHECK(value["list"] == json::parse(R"([1, "1", {"a": false}])"));
}

TEST_CASE("spec schema: malformed yaml is reported and not crashed on", "[spec_schema]") {
  CHECK_THROWS_WITH(yaml_to_json("a: [1, 2"), Catch::Contains("invalid yaml"));
}

// ---- Keywords -----------------------------------------------------------------

TEST_CASE("spec schema: type including lists of types and integer", "[spec_schema]") {
  CHECK(check("type: integer", 5).empty());
  CHECK(check("type: integer", 5.0).empty());
  CHECK(check("type: integer", 5.5) == Errors{"/: expected integer, got number"});
  CHECK(check("type: integer", "5") == Errors{"/: expected integer, got string"});
  CHECK(check("type: number", 5).empty());
  CHECK(check("type: boolean", "true") == Errors{"/: expected boolean, got string"});
  CHECK(check("type: 'null'", nullptr).empty());
  CHECK(check("type: [string, 'null']", nullptr).empty());
  CHECK(check("type: [string, 'null']", 3) == Errors{"/: expected one of string, null, got integer"});
  CHECK(check("type: object", json::array()) == Errors{"/: expected object, got array"});
  CHECK_THROWS_WITH(check("type: text", "x"), Catch::Contains("unknown type \"text\""));
}

TEST_CASE("spec schema: properties and required with nested paths", "[spec_schema]") {
  const std::string schema = R"(
type: object
required: [content]
properties:
  content:
    type: object
    required: [join_rule]
    properties:
      join_rule: {type: string}
)";
  CHECK(check(schema, json::parse(R"({"content": {"join_rule": "invite"}, "extra": 1})")).empty());
  CHECK(check(schema, json::object()) == Errors{"/: missing required property \"content\""});
  CHECK(check(schema, json::parse(R"({"content": {}})")) ==
        Errors{"/content: missing required property \"join_rule\""});
  CHECK(check(schema, json::parse(R"({"content": {"join_rule": 1}})")) ==
        Errors{"/content/join_rule: expected string, got integer"});
}

TEST_CASE("spec schema: additionalProperties and patternProperties", "[spec_schema]") {
  const std::string schema = R"(
type: object
properties:
  room: {type: integer}
patternProperties:
  "^@": {type: integer}
additionalProperties: false
)";
  CHECK(check(schema, json::parse(R"({"room": 50, "@a:b": 100})")).empty());
  CHECK(check(schema, json::parse(R"({"@a:b": "100"})")) == Errors{"/@a:b: expected integer, got string"});
  CHECK(check(schema, json::parse(R"({"bob": 1})")) ==
        Errors{"/bob: property not allowed (additionalProperties is false)"});
  CHECK(check("additionalProperties: {type: integer}", json::parse(R"({"m.room.name": "x"})")) ==
        Errors{"/m.room.name: expected integer, got string"});
  SECTION("keys are escaped as JSON pointer tokens") {
    CHECK(check("additionalProperties: {type: integer}", json::parse(R"({"a/b~c": "x"})")) ==
          Errors{"/a~1b~0c: expected integer, got string"});
  }
  SECTION("object size bounds") {
    CHECK(check("minProperties: 1", json::object()) == Errors{"/: has 0 properties, fewer than minProperties 1"});
    CHECK(check("maxProperties: 1", json::parse(R"({"a":1,"b":2})")) ==
          Errors{"/: has 2 properties, more than maxProperties 1"});
  }
}

TEST_CASE("spec schema: items and array bounds", "[spec_schema]") {
  CHECK(check("items: {type: string}", json::parse(R"(["a", "b"])")).empty());
  CHECK(check("items: {type: string}", json::parse(R"(["a", 2])")) == Errors{"/1: expected string, got integer"});
  CHECK(check("prefixItems: [{type: string}]\nitems: {type: integer}", json::parse(R"(["a", 2, "c"])")) ==
        Errors{"/2: expected integer, got string"});
  CHECK(check("minItems: 1", json::array()) == Errors{"/: has 0 items, fewer than minItems 1"});
  CHECK(check("maxItems: 1", json::parse("[1, 2]")) == Errors{"/: has 2 items, more than maxItems 1"});
  CHECK(check("uniqueItems: true", json::parse("[1, 2, 1]")) ==
        Errors{"/: items 0 and 2 are equal (uniqueItems)"});
}

TEST_CASE("spec schema: enum and const", "[spec_schema]") {
  const std::string presets = "enum: [private_chat, public_chat, trusted_private_chat]";
  CHECK(check(presets, "public_chat").empty());
  CHECK(check(presets, "privat") ==
        Errors{"/: \"privat\" is not one of [\"private_chat\",\"public_chat\",\"trusted_private_chat\"]"});
  CHECK(check("const: m.space", "m.space").empty());
  CHECK(check("const: m.space", "m.room") == Errors{"/: expected \"m.space\", got \"m.room\""});
}

TEST_CASE("spec schema: numeric bounds", "[spec_schema]") {
  CHECK(check("minimum: 0\nmaximum: 100", 100).empty());
  CHECK(check("minimum: 0", -1) == Errors{"/: -1 is less than minimum 0"});
  CHECK(check("maximum: 100", 101) == Errors{"/: 101 is greater than maximum 100"});
  CHECK(check("exclusiveMinimum: 0", 0) == Errors{"/: 0 is not greater than exclusiveMinimum 0"});
  CHECK(check("exclusiveMaximum: 10", 10) == Errors{"/: 10 is not less than exclusiveMaximum 10"});
  CHECK(check("multipleOf: 5", 15).empty());
  CHECK(check("multipleOf: 5", 16) == Errors{"/: 16 is not a multiple of 5"});
}

TEST_CASE("spec schema: string length counts characters and pattern searches", "[spec_schema]") {
  CHECK(check("maxLength: 3", "äöü").empty());
  CHECK(check("maxLength: 2", "äöü") == Errors{"/: string of length 3 is longer than maxLength 2"});
  CHECK(check("minLength: 1", "") == Errors{"/: string of length 0 is shorter than minLength 1"});
  CHECK(check("pattern: '^@'", "@a:b").empty());
  CHECK(check("pattern: 'b:'", "@ab:c").empty());
  CHECK(check("pattern: '^$'", "x") == Errors{"/: \"x\" does not match pattern \"^$\""});
  CHECK(check("pattern: \"^mxc:\\\\/\\\\/\"", "mxc://a/b").empty());
  CHECK_THROWS_WITH(check("pattern: '('", "x"), Catch::Contains("not a valid regex"));
}

TEST_CASE("spec schema: allOf anyOf oneOf and not", "[spec_schema]") {
  CHECK(check("allOf: [{type: object, required: [a]}, {required: [b]}]", json::parse(R"({"a": 1})")) ==
        Errors{"/: missing required property \"b\""});
  CHECK(check("anyOf: [{type: string}, {type: 'null'}]", nullptr).empty());
  CHECK(check("anyOf: [{type: string}, {type: 'null'}]", 1) ==
        Errors{"/: matches none of the anyOf alternatives: [0] /: expected string, got integer; "
               "[1] /: expected null, got integer;"});
  CHECK(check("oneOf: [{type: string}, {type: object}]", "x").empty());
  CHECK(check("oneOf: [{type: integer}, {type: number}]", 1) ==
        Errors{"/: matches 2 oneOf alternatives, expected exactly one"});
  CHECK(check("oneOf: [{type: integer}, {type: object}]", "x").size() == 1);
  CHECK(check("not: {type: string}", "x") == Errors{"/: must not match the \"not\" schema"});
  CHECK(check("not: {type: string}", 1).empty());
  CHECK(check("false", 1) == Errors{"/: no value is allowed here"});
  CHECK(check("true", 1).empty());
}

TEST_CASE("spec schema: format and annotations are ignored", "[spec_schema]") {
  CHECK(check("type: string\nformat: mx-user-id\ndescription: x\nx-addedInMatrixVersion: '1.2'", "nope").empty());
}

// ---- $ref -----------------------------------------------------------------------

TEST_CASE("spec schema: $ref resolves files relative to the referring file", "[spec_schema]") {
  testing_support::TempDir dir;
  dir.write("api/op.yaml", R"(
schema:
  type: object
  properties:
    event: {$ref: ../events/state.yaml}
    count: {$ref: '#/components/schemas/count'}
components:
  schemas:
    count: {type: integer}
)");
  dir.write("events/state.yaml", R"(
allOf:
  - $ref: core/base.yaml
properties:
  state_key: {$ref: 'core/base.yaml#/definitions/empty'}
)");
  dir.write("events/core/base.yaml", R"(
type: object
required: [type]
definitions:
  empty: {type: string, pattern: '^$'}
)");
  SchemaRef schema = schema_at(dir.path() / "api" / "op.yaml", "/schema");
  CHECK(validate(json::parse(R"({"event": {"type": "m.x", "state_key": ""}, "count": 1})"), schema).empty());
  CHECK(validate(json::parse(R"({"event": {"state_key": "x"}, "count": "1"})"), schema) ==
        Errors{"/count: expected integer, got string", "/event: missing required property \"type\"",
               "/event/state_key: \"x\" does not match pattern \"^$\""});
  CHECK_THROWS_WITH(validate(json::object(), schema_from_yaml("$ref: missing.yaml", dir.path() / "a.yaml")),
                    Catch::Contains("not found"));
  CHECK_THROWS_WITH(validate(json::object(), schema_from_yaml("$ref: '#/nope'", dir.path() / "a.yaml")),
                    Catch::Contains("has nothing at \"/nope\""));
}

TEST_CASE("spec schema: recursive schemas validate lazily, self loops are caught", "[spec_schema]") {
  const std::string tree = R"(
$ref: '#/components/node'
components:
  node:
    type: object
    properties:
      name: {type: string}
      children: {type: array, items: {$ref: '#/components/node'}}
)";
  CHECK(check(tree, json::parse(R"({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})"))
            .empty());
  CHECK(check(tree, json::parse(R"({"children": [{"children": [{"name": 3}]}]})")) ==
        Errors{"/children/0/children/0/name: expected string, got integer"});
  CHECK_THROWS_WITH(check("$ref: '#/a'\na: {$ref: '#/a'}", 1), Catch::Contains("$ref cycle"));
}

// ---- The spec's own examples ------------------------------------------------------

TEST_CASE("spec schema: m.room.power_levels example event validates, a string level does not",
          "[spec_schema]") {
  json event = event_example("m.room.power_levels");
  REQUIRE(event["content"]["users"].contains("@example:localhost"));
  CHECK(event.contains("event_id"));  // merged in from core/state_event.json via $ref
  CHECK(validate(event, event_schema("m.room.power_levels")).empty());

  event["content"]["users"]["@example:localhost"] = "100";
  CHECK(validate(event, event_schema("m.room.power_levels")) ==
        Errors{"/content/users/@example:localhost: expected integer, got string"});
  event = event_example("m.room.power_levels");
  event["state_key"] = "x";
  CHECK(validate(event, event_schema("m.room.power_levels")) ==
        Errors{"/state_key: \"x\" does not match pattern \"^$\""});
  event = event_example("m.room.power_levels");
  event.erase("sender");
  CHECK(validate(event, event_schema("m.room.power_levels")) == Errors{"/: missing required property \"sender\""});
}

TEST_CASE("spec schema: m.room.join_rules examples validate, an unknown join_rule does not", "[spec_schema]") {
  CHECK(validate(event_example("m.room.join_rules"), event_schema("m.room.join_rules")).empty());
  json restricted = event_example("m.room.join_rules$restricted");
  REQUIRE(restricted["content"]["join_rule"] == "restricted");
  CHECK(validate(restricted, event_schema("m.room.join_rules")).empty());

  json event = event_example("m.room.join_rules");
  event["content"]["join_rule"] = "secret";
  CHECK(validate(event, event_schema("m.room.join_rules")) ==
        Errors{"/content/join_rule: \"secret\" is not one of "
               "[\"public\",\"knock\",\"invite\",\"private\",\"restricted\",\"knock_restricted\"]"});
  restricted["content"]["allow"][0].erase("type");
  CHECK(validate(restricted, event_schema("m.room.join_rules")) ==
        Errors{"/content/allow/0: missing required property \"type\""});
}

TEST_CASE("spec schema: createRoom request and response examples", "[spec_schema]") {
  const std::string file = "client-server/create_room.yaml";
  std::vector<json> requests = request_examples(file, "/createRoom", "post");
  REQUIRE(requests.size() == 1);
  CHECK(requests[0]["preset"] == "public_chat");
  SchemaRef request = request_schema(file, "/createRoom", "post");
  CHECK(validate(requests[0], request).empty());

  json broken = requests[0];
  broken["preset"] = "privat";
  broken["initial_state"] = json::parse(R"([{"type": "m.room.encryption"}])");
  CHECK(validate(broken, request) ==
        Errors{"/initial_state/0: missing required property \"content\"",
               "/preset: \"privat\" is not one of [\"private_chat\",\"public_chat\",\"trusted_private_chat\"]"});

  std::vector<json> responses = response_examples(file, "/createRoom", "post", 200);
  REQUIRE(responses.size() == 1);
  CHECK(validate(responses[0], response_schema(file, "/createRoom", "post", 200)).empty());
  CHECK(validate(json::object(), response_schema(file, "/createRoom", "post", 200)) ==
        Errors{"/: missing required property \"room_id\""});
  SECTION("error responses resolve through $ref to the shared error schema") {
    CHECK(validate(json::parse(R"({"errcode": "M_ROOM_IN_USE", "error": "taken"})"),
                   response_schema(file, "/createRoom", "post", 400))
              .empty());
    CHECK(validate(json::parse(R"({"error": "taken"})"), response_schema(file, "/createRoom", "post", 400)) ==
          Errors{"/: missing required property \"errcode\""});
  }
}

TEST_CASE("spec schema: login request and response examples", "[spec_schema]") {
  const std::string file = "client-server/login.yaml";
  std::vector<json> requests = request_examples(file, "/login", "post");
  REQUIRE(requests.size() == 1);
  CHECK(validate(requests[0], request_schema(file, "/login", "post")).empty());
  json broken = requests[0];
  broken["identifier"].erase("type");
  CHECK(validate(broken, request_schema(file, "/login", "post")) ==
        Errors{"/identifier: missing required property \"type\""});

  std::vector<json> responses = response_examples(file, "/login", "post", 200);
  REQUIRE(responses.size() == 1);
  SchemaRef response = response_schema(file, "/login", "post", 200);
  CHECK(validate(responses[0], response).empty());
  broken = responses[0];
  broken["user_id"] = "cheeky_monkey";
  broken["well_known"]["m.homeserver"].erase("base_url");
  CHECK(validate(broken, response) ==
        Errors{"/user_id: \"cheeky_monkey\" does not match pattern \"^@\"",
               "/well_known/m.homeserver: missing required property \"base_url\""});
}

TEST_CASE("spec schema: sync response example validates, broken events are found deep inside",
          "[spec_schema]") {
  const std::string file = "client-server/sync.yaml";
  std::vector<json> responses = response_examples(file, "/sync", "get", 200);
  REQUIRE(responses.size() == 1);
  SchemaRef schema = response_schema(file, "/sync", "get", 200);
  // The example pulls m.presence, m.typing, m.receipt and m.tag in by $ref.
  REQUIRE(responses[0]["presence"]["events"][0]["type"] == "m.presence");
  CHECK(validate(responses[0], schema).empty());

  json broken = responses[0];
  json& room = broken["rooms"]["join"]["!726s6s6q:example.com"];
  room["timeline"]["events"][1].erase("event_id");
  room["state"]["events"][0]["origin_server_ts"] = "1432735824653";
  room["unread_notifications"]["highlight_count"] = true;
  broken["rooms"]["join"]["!726s6s6q:example.com"]["timeline"].erase("events");
  broken.erase("next_batch");
  CHECK(validate(broken, schema) ==
        Errors{"/: missing required property \"next_batch\"",
               "/rooms/join/!726s6s6q:example.com/state/events/0/origin_server_ts: expected integer, got string",
               "/rooms/join/!726s6s6q:example.com/timeline: missing required property \"events\"",
               "/rooms/join/!726s6s6q:example.com/unread_notifications/highlight_count: "
               "expected integer, got boolean"});
}

TEST_CASE("spec schema: missing operations and event types are errors and not empty schemas", "[spec_schema]") {
  CHECK_THROWS_WITH(event_schema("m.room.nope"), Catch::Contains("not found"));
  CHECK_THROWS_WITH(request_schema("client-server/create_room.yaml", "/createRoom", "get"),
                    Catch::Contains("no \"get\""));
  CHECK_THROWS_WITH(response_schema("client-server/create_room.yaml", "/createRoom", "post", 418),
                    Catch::Contains("no \"418\""));
}

// Every example the spec ships is checked against its own schema, which keeps
// the validator honest in both directions: too strict fails here, and the one
// real spec erratum below proves it is not vacuously lenient.
TEST_CASE("spec schema: every event and client-server example validates against its schema",
          "[spec_schema]") {
  const std::map<std::string, Errors> k_spec_errata = {
      // protocol_base.yaml requires `icon`, but the example's "gitter" entry has none.
      {"client-server/third_party_lookup.yaml get /thirdparty/protocols 200",
       {"/gitter: missing required property \"icon\""}},
  };
  std::map<std::string, Errors> failures;
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(data_dir() / "event-schemas" / "examples")) {
    std::string name = entry.path().stem().string();
    // "m.room.member$invite_room_state" is a variant example of m.room.member.
    std::string type = fs::exists(data_dir() / "event-schemas" / "schema" / (name + ".yaml"))
                           ? name
                           : name.substr(0, name.find('$'));
    if (entry.path().extension() != ".yaml" ||
        !fs::exists(data_dir() / "event-schemas" / "schema" / (type + ".yaml"))) {
      continue;
    }
    ++checked;
    if (Errors errors = validate(event_example(name), event_schema(type)); !errors.empty()) {
      failures[name] = errors;
    }
  }
  for (const auto& entry : fs::directory_iterator(data_dir() / "api" / "client-server")) {
    if (entry.path().extension() != ".yaml") {
      continue;
    }
    std::string file = "client-server/" + entry.path().filename().string();
    const json& paths = schema_at(fs::path("api") / file).node->at("paths");
    for (const auto& [path, item] : paths.items()) {
      for (const auto& [method, operation] : item.items()) {
        auto json_body = [](const json& holder) {
          return holder.contains("content") && holder["content"].contains("application/json");
        };
        if (operation.contains("requestBody") && json_body(operation["requestBody"])) {
          for (const json& example : request_examples(file, path, method)) {
            ++checked;
            if (Errors errors = validate(example, request_schema(file, path, method)); !errors.empty()) {
              failures[file + " " + method + " " + path + " request"] = errors;
            }
          }
        }
        for (const auto& [code, response] : operation.at("responses").items()) {
          if (!json_body(response)) {
            continue;
          }
          int status = std::stoi(code);
          for (const json& example : response_examples(file, path, method, status)) {
            ++checked;
            if (Errors errors = validate(example, response_schema(file, path, method, status)); !errors.empty()) {
              failures[file + " " + method + " " + path + " " + code] = errors;
            }
          }
        }
      }
    }
  }
  CHECK(checked > 300);
  CHECK(failures == k_spec_errata);
}

}  // namespace
}  // namespace spec::spec_schema_test
