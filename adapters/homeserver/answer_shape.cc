#include "adapters/homeserver/answer_shape.h"

#include "adapters/redact.h"

namespace adapters {

const char* describe(JsonType type) {
  switch (type) {
    case JsonType::string: return "a string";
    case JsonType::integer: return "an integer";
    case JsonType::number: return "a number";
    case JsonType::boolean: return "a boolean";
    case JsonType::flag: return "a boolean (or 0/1)";
    case JsonType::array: return "an array";
    case JsonType::object: return "an object";
  }
  return "a value";
}

std::string describe_value(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return "an integer";
    case nlohmann::json::value_t::number_float: return "a fractional number";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    default: return "not JSON";
  }
}

bool has_type(const nlohmann::json& value, JsonType type) {
  switch (type) {
    case JsonType::string: return value.is_string();
    case JsonType::integer: return value.is_number_integer();
    case JsonType::number: return value.is_number();
    case JsonType::boolean: return value.is_boolean();
    case JsonType::flag:
      return value.is_boolean() ||
             (value.is_number_integer() && (value.get<std::int64_t>() == 0 || value.get<std::int64_t>() == 1));
    case JsonType::array: return value.is_array();
    case JsonType::object: return value.is_object();
  }
  return false;
}

bool flag_value(const nlohmann::json& value) {
  return value.is_boolean() ? value.get<bool>() : value.is_number_integer() && value.get<std::int64_t>() != 0;
}

std::string field_path(const std::string& where, const std::string& name) {
  return where.empty() ? name : where + "." + name;
}

Answer::Answer(std::string method, std::string path, const nlohmann::json& body)
    : m_request(std::move(method) + " " + redact(std::move(path), {})), m_body(body) {}

model::Error Answer::malformed(const std::string& what) const {
  return model::make_error(model::Error::Kind::transient, m_request + ": malformed answer: " + what);
}

model::Result<const nlohmann::json*> Answer::body(JsonType type) const {
  if (m_body.is_null()) {
    return tl::unexpected(malformed(std::string("the body is empty, expected ") + describe(type)));
  }
  if (!has_type(m_body, type)) {
    return tl::unexpected(malformed("the body is " + describe_value(m_body) + ", expected " + describe(type)));
  }
  return &m_body;
}

model::Result<const nlohmann::json*> Answer::value(const nlohmann::json& value, const std::string& where,
                                                   JsonType type) const {
  if (!has_type(value, type)) {
    return tl::unexpected(malformed(where + " is " + describe_value(value) + ", expected " + describe(type)));
  }
  return &value;
}

model::Result<const nlohmann::json*> Answer::field(const nlohmann::json& object, const std::string& where,
                                                   const std::string& name, JsonType type) const {
  if (&object == &m_body) {
    // "the body is empty" rather than "the body is null".
    if (auto whole = body(JsonType::object); !whole) {
      return tl::unexpected(whole.error());
    }
  }
  if (!object.is_object()) {
    return tl::unexpected(malformed((where.empty() ? std::string("the body") : where) + " is " +
                                    describe_value(object) + ", expected an object"));
  }
  auto it = object.find(name);
  if (it == object.end()) {
    return tl::unexpected(malformed(field_path(where, name) + " is missing (expected " + describe(type) + ")"));
  }
  return value(*it, field_path(where, name), type);
}

model::Result<const nlohmann::json*> Answer::optional_field(const nlohmann::json& object, const std::string& where,
                                                            const std::string& name, JsonType type) const {
  if (object.is_object()) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null()) {
      return nullptr;
    }
  }
  return field(object, where, name, type);
}

model::Result<std::string> Answer::string(const nlohmann::json& object, const std::string& where,
                                          const std::string& name) const {
  auto found = field(object, where, name, JsonType::string);
  if (!found) {
    return tl::unexpected(found.error());
  }
  return (*found)->get<std::string>();
}

}  // namespace adapters
