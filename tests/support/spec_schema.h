#pragma once

// Validation of JSON against the Matrix specification's own machine-readable
// schemas (the OpenAPI files under api/ and the JSON Schemas under
// event-schemas/), so tests can check what mxctl sends and what mxsim answers
// against the spec itself rather than against our reading of it.
//
// Supported keywords (the subset the spec uses, plus a few cheap neighbours):
// type (single or list, "integer" included), enum, const, properties, required,
// additionalProperties (bool or schema), patternProperties, minProperties,
// maxProperties, items (schema, or list as prefixItems), prefixItems, minItems,
// maxItems, uniqueItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
// multipleOf, minLength, maxLength, pattern (std::regex ECMAScript, searched
// not anchored), allOf, anyOf, oneOf, not, $ref (relative files and JSON
// pointer fragments) and boolean schemas. `format` and annotations are ignored.

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace spec {

/// One schema node plus the file it came from, so that its relative `$ref`s
/// can be resolved. `node` points into a document cached for the life of the
/// process, so a SchemaRef is cheap to copy and never dangles.
struct SchemaRef {
  /// Absolute path of the document holding `node`; relative refs start here.
  std::filesystem::path file;
  /// The whole document holding `node`, which "#/..." fragments index into.
  const nlohmann::json* document = nullptr;
  /// The schema itself; never null in a SchemaRef returned by this API.
  const nlohmann::json* node = nullptr;
};

/// Root of the spec's machine-readable data: the subset vendored in
/// tests/spec/matrix-spec-v1.16/data, or $MXCTL_SPEC_DATA_DIR when set.
std::filesystem::path data_dir();

/// Converts YAML (JSON is YAML) text to JSON. Quoted and block scalars stay
/// strings; plain scalars become null, booleans, integers or floats by the
/// YAML 1.2 core schema, else strings. Throws std::runtime_error when the text
/// is not YAML or uses a feature JSON cannot hold (non-scalar map keys).
nlohmann::json yaml_to_json(const std::string& text);

/// The node at JSON pointer `pointer` (e.g. "/components/schemas/x"; "" is the
/// whole document) of `file`, which is taken relative to data_dir() unless it
/// is absolute. Each file is read once and cached. Throws std::runtime_error
/// when the file cannot be read or parsed or the pointer names nothing.
SchemaRef schema_at(const std::filesystem::path& file, const std::string& pointer = "");

/// A schema written inline (YAML text), for tests of the validator itself.
/// Relative `$ref`s in it resolve as if it were the file `base_file`.
/// Throws std::runtime_error when the text is not YAML.
SchemaRef schema_from_yaml(const std::string& text, const std::filesystem::path& base_file);

/// The schema of a whole event (type, content, state_key, ...) of
/// `event_type`, from event-schemas/schema/<event_type>.yaml. Throws
/// std::runtime_error when the spec has no schema for that type.
SchemaRef event_schema(const std::string& event_type);

/// The application/json request body schema of operation `method` (lower
/// case, as in the file: "post") on `path` (exactly as the file spells it:
/// "/rooms/{roomId}/state") in `api_file`, relative to data/api
/// ("client-server/create_room.yaml"). OpenAPI-level `$ref`s are followed.
/// Throws std::runtime_error when the operation or its JSON body is absent.
SchemaRef request_schema(const std::string& api_file, const std::string& path, const std::string& method);

/// Like request_schema(), for the application/json body of response `status`.
SchemaRef response_schema(const std::string& api_file, const std::string& path, const std::string& method,
                          int status);

/// Every example the spec gives for that request body: the schema's `example`
/// and each `examples.<name>.value`, with example `$ref`s merged in (see
/// event_example()). Empty when the spec gives none; throws like request_schema().
std::vector<nlohmann::json> request_examples(const std::string& api_file, const std::string& path,
                                             const std::string& method);

/// Like request_examples(), for the body of response `status`.
std::vector<nlohmann::json> response_examples(const std::string& api_file, const std::string& path,
                                              const std::string& method, int status);

/// The example event event-schemas/examples/<name>.yaml (e.g.
/// "m.room.join_rules$restricted"), with each `{"$ref": file, ...}` object
/// replaced by the referenced example with the object's own keys laid over it
/// (a shallow merge, as the spec's own example checker does). Throws std::runtime_error when it is absent.
nlohmann::json event_example(const std::string& name);

/// Every violation of `schema` by `instance`, each as "<json pointer>: <what>"
/// (the root is "/"), e.g. "/content/users/@a:b: expected integer, got string".
/// Empty when valid. `$ref`s resolve relative to the schema's file, lazily, so
/// recursive schemas are fine. Throws std::runtime_error for a broken schema
/// (dangling `$ref`, invalid regex) since that is a bug in the test, not data.
std::vector<std::string> validate(const nlohmann::json& instance, const SchemaRef& schema);

}  // namespace spec
