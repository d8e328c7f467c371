#pragma once
// The default queries of the app database source (FT-17's schema as in
// manifests/app-schema.sql) and the columns each object kind's query must
// return, whoever wrote it. Private to the app_database adapters.

#include <map>
#include <string>
#include <vector>

namespace adapters::app_db {

/// The type a column's values must have (see RowReader for what converts).
enum class ColumnType { text, integer, boolean };

struct ColumnSpec {
  std::string name;
  ColumnType type;
  bool required;
};

/// One object kind's query.
struct QuerySpec {
  /// The table the default query reads, used to name rows in messages.
  std::string table;
  /// The default SQL (both engines).
  std::string sql;
  /// Every column the kind knows; others are reported as unknown.
  std::vector<ColumnSpec> columns;
};

/// Every kind of k_app_query_kinds → its spec.
const std::map<std::string, QuerySpec>& query_specs();

/// "text", "an integer", "a boolean", as messages name an expected type.
const char* type_name(ColumnType type);

}  // namespace adapters::app_db
