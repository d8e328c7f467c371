#pragma once
// Reading a homeserver's answer without trusting it. Every field mxctl relies
// on is checked for presence and JSON type before it is used; a check that
// fails is an error naming the request, the field and what was found there,
// never a default standing in for data the server did not give (an empty
// user list read from an empty body would make a plan re-create every
// account).

#include <string>

#include <nlohmann/json.hpp>

#include "model/result.h"

namespace adapters {

/// The JSON types a value of an answer may be required to have. `flag` is a
/// boolean or a 0/1 integer: Synapse 1.67 sends integers where newer releases
/// send booleans. `number` accepts integers too.
enum class JsonType { string, integer, number, boolean, flag, array, object };

/// "a string", "an array", ... for messages.
const char* describe(JsonType type);

/// What `value` is, for messages: "null", "a string", "an integer", ...
std::string describe_value(const nlohmann::json& value);

/// The value of a `flag` field: true for `true` and for a non-zero integer.
bool flag_value(const nlohmann::json& value);

/// One answer of the homeserver and the request it answered. The checks
/// return the value they checked (a pointer into the body, which must
/// outlive the Answer) or an error of kind `transient` (a proxy's empty page
/// during a restart may well be followed by a good one) whose message reads
/// "GET /path: malformed answer: users[3].name is an integer, expected a
/// string", the path's secrets redacted.
class Answer {
 public:
  /// `body` as MatrixClient returns it: null for an empty body.
  Answer(std::string method, std::string path, const nlohmann::json& body);

  /// The whole body, which must be of `type` (an empty body never is).
  model::Result<const nlohmann::json*> body(JsonType type) const;

  /// Field `name` of `object`, which must be present and of `type`.
  /// `object` is the body or an object inside it that messages call `where`
  /// ("users[3]"; empty for the body).
  model::Result<const nlohmann::json*> field(const nlohmann::json& object, const std::string& where,
                                             const std::string& name, JsonType type) const;

  /// Like field(), but an absent or null field gives nullptr.
  model::Result<const nlohmann::json*> optional_field(const nlohmann::json& object, const std::string& where,
                                                      const std::string& name, JsonType type) const;

  /// field() of a string, copied out.
  model::Result<std::string> string(const nlohmann::json& object, const std::string& where,
                                    const std::string& name) const;

  /// `value` (found at `where`) must be of `type`; for array elements and
  /// map values, which have no field name of their own.
  model::Result<const nlohmann::json*> value(const nlohmann::json& value, const std::string& where,
                                             JsonType type) const;

  /// The error for anything else wrong with the answer: "<request>:
  /// malformed answer: <what>".
  model::Error malformed(const std::string& what) const;

  /// "GET /path" with the path's secrets redacted.
  const std::string& request() const { return m_request; }

 private:
  std::string m_request;
  const nlohmann::json& m_body;
};

/// Whether `value` is of `type` (see JsonType).
bool has_type(const nlohmann::json& value, JsonType type);

/// `where` + "." + `name`, or `name` alone when `where` is empty.
std::string field_path(const std::string& where, const std::string& name);

}  // namespace adapters
