#include "adapters/appdb/app_database.h"

namespace adapters {

DbValue DbValue::null_value() { return DbValue{}; }

DbValue DbValue::of_integer(long long value) {
  DbValue out;
  out.type = Type::integer;
  out.integer = value;
  out.text = std::to_string(value);
  return out;
}

DbValue DbValue::of_real(double value, std::string rendered) {
  DbValue out;
  out.type = Type::real;
  out.real = value;
  out.text = std::move(rendered);
  return out;
}

DbValue DbValue::of_text(std::string value) {
  DbValue out;
  out.type = Type::text;
  out.text = std::move(value);
  return out;
}

DbValue DbValue::of_boolean(bool value) {
  DbValue out;
  out.type = Type::boolean;
  out.boolean = value;
  out.text = value ? "true" : "false";
  return out;
}

const char* to_string(DbValue::Type type) {
  switch (type) {
    case DbValue::Type::null:
      return "null";
    case DbValue::Type::integer:
      return "integer";
    case DbValue::Type::real:
      return "real";
    case DbValue::Type::text:
      return "text";
    case DbValue::Type::boolean:
      return "boolean";
  }
  return "unknown";
}

namespace {

bool starts_with(const std::string& text, std::string_view prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

model::Result<std::unique_ptr<AppDatabase>> open_app_database(const std::string& uri, bool writable) {
  if (starts_with(uri, "sqlite:")) {
    std::string path = uri.substr(7);
    // sqlite:///abs/path -> /abs/path; sqlite://rel/path -> rel/path.
    if (starts_with(path, "//")) {
      path = path.substr(2);
    }
    if (path.empty()) {
      return model::fail(model::Error::Kind::invalid, "database uri " + uri + " names no file");
    }
    return open_sqlite_app_database(path, writable);
  }
  if (starts_with(uri, "postgresql://") || starts_with(uri, "postgres://") || uri.find('=') != std::string::npos) {
    return open_postgres_app_database(uri);
  }
  return model::fail(model::Error::Kind::invalid,
                     "unknown database uri \"" + redact_database_uri(uri) +
                         "\": expected sqlite:///path/app.db, postgresql://… or a \"host=… dbname=…\" conninfo");
}

}  // namespace adapters
