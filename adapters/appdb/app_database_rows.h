#pragma once
// Reading the rows of one app database query: column names checked against
// the kind's spec, values checked for type, and every problem located as
// "<table or query> row <key> column <name>". Header-only and private to
// the app_database adapters.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <set>
#include <vector>

#include "adapters/appdb/app_database.h"
#include "adapters/appdb/app_database_queries.h"
#include "model/diagnostic.h"
#include "model/suggest.h"

namespace adapters::app_db {

/// Reads one query's rows, checking names and types; problems are appended
/// to the diagnostics it was given, located as "<label> row <key> column <name>".
class RowReader {
 public:
  /// `label` names the rows' source: "table memberships" or "query users".
  RowReader(std::string label, const DbRows& rows, const std::vector<ColumnSpec>& columns,
            model::Diagnostics& diagnostics)
      : m_label(std::move(label)), m_rows(rows), m_columns(columns), m_diagnostics(diagnostics) {
    for (std::size_t i = 0; i < m_rows.columns.size(); ++i) {
      m_index.emplace(m_rows.columns[i], i);
    }
  }

  /// False when a required column is missing or a column is unknown.
  bool check_columns() {
    std::vector<std::string> known;
    for (const ColumnSpec& spec : m_columns) {
      known.push_back(spec.name);
    }
    std::string returned;
    std::set<std::string> seen;
    for (const std::string& name : m_rows.columns) {
      returned += (returned.empty() ? "" : ", ") + name;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        report({m_label}, "unknown column \"" + name + "\"" + model::did_you_mean(name, known));
      } else if (!seen.insert(name).second) {
        report({m_label}, "column \"" + name + "\" is returned twice");
      }
    }
    bool ok = m_diagnostics.size() == m_reported_before;
    for (const ColumnSpec& spec : m_columns) {
      if (spec.required && !m_index.contains(spec.name)) {
        report({m_label}, "missing column \"" + spec.name + "\" (the query returns: " +
                              (returned.empty() ? "nothing" : returned) + ")");
        ok = false;
      }
    }
    return ok && m_diagnostics.size() == m_reported_before;
  }

  /// Number of rows.
  std::size_t size() const { return m_rows.rows.size(); }

  /// Where row `row` (known by `key`) is: "table x row key".
  model::SourceLocation row_at(const std::string& key) const { return {m_label + " row " + key}; }
  /// Where one value is: "table x row key column c".
  model::SourceLocation at(const std::string& key, const std::string& column) const {
    return {m_label + " row " + key + " column " + column};
  }

  /// The row's text value of `column`; nothing when null or not returned.
  /// An integer is accepted and written in decimal (ids are often integers).
  std::optional<std::string> text(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value == nullptr || value->is_null()) {
      return std::nullopt;
    }
    if (value->type == DbValue::Type::text || value->type == DbValue::Type::integer) {
      return value->text;
    }
    wrong_type(*value, column, key, ColumnType::text);
    return std::nullopt;
  }

  /// The row's integer value of `column` at full width (64 bits; a real
  /// only when it is a whole number); nothing when null or not returned; a
  /// whole number beyond 64 bits is reported as out of range, anything else
  /// as the wrong type.
  std::optional<long long> integer(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value == nullptr || value->is_null()) {
      return std::nullopt;
    }
    if (value->type == DbValue::Type::integer) {
      return value->integer;
    }
    // PostgreSQL's SUM() and numeric columns give whole numbers as numeric,
    // SQLite a REAL it could not store as an integer.
    if (value->type == DbValue::Type::real) {
      if (auto whole = whole_number(value->text)) {
        if (*whole) {
          return **whole;
        }
        report(at(key, column), column + " is out of range, got " + shown(value->text));
        return std::nullopt;
      }
      if (std::isfinite(value->real) && std::trunc(value->real) == value->real) {
        // Within 64 bits it would have been written as digits above.
        report(at(key, column), column + " is out of range, got " + shown(value->text));
        return std::nullopt;
      }
    }
    wrong_type(*value, column, key, ColumnType::integer);
    return std::nullopt;
  }

  /// integer(), limited to what an int holds (the model's levels and
  /// trust); a value beyond is reported as out of range, never wrapped.
  std::optional<int> int32(std::size_t row, const std::string& column, const std::string& key) {
    std::optional<long long> value = integer(row, column, key);
    if (!value) {
      return std::nullopt;
    }
    constexpr long long min = std::numeric_limits<int>::min();
    constexpr long long max = std::numeric_limits<int>::max();
    if (*value < min || *value > max) {
      report(at(key, column), column + " is out of range, got " + std::to_string(*value) + " (at " +
                                  (*value > max ? "most " + std::to_string(max) : "least " + std::to_string(min)) +
                                  ")");
      return std::nullopt;
    }
    return static_cast<int>(*value);
  }

  /// Booleans, or the integers 0 and 1 (SQLite has no boolean type).
  std::optional<bool> boolean(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value == nullptr || value->is_null()) {
      return std::nullopt;
    }
    if (value->type == DbValue::Type::boolean) {
      return value->boolean;
    }
    if (value->type == DbValue::Type::integer && (value->integer == 0 || value->integer == 1)) {
      return value->integer == 1;
    }
    wrong_type(*value, column, key, ColumnType::boolean);
    return std::nullopt;
  }

  /// A required value that is null.
  void require(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value != nullptr && value->is_null()) {
      report(at(key, column), column + " must not be null");
    }
  }

  /// Adds a problem.
  void report(model::SourceLocation where, std::string message) {
    m_diagnostics.push_back({std::move(where), std::move(message)});
  }

 private:
  const DbValue* cell(std::size_t row, const std::string& column) const {
    auto it = m_index.find(column);
    if (it == m_index.end()) {
      return nullptr;
    }
    return &m_rows.rows[row][it->second];
  }

  // A value as messages quote it: cut at 40 bytes.
  static std::string shown(const std::string& text) {
    return "\"" + (text.size() > 40 ? text.substr(0, 40) + "…" : text) + "\"";
  }

  // The value of a decimal rendering of a whole number ("12", "-3",
  // "12.000", "1000000000000.0"): nothing when `text` is not one, an empty
  // optional inside when it is one beyond 64 bits.
  static std::optional<std::optional<long long>> whole_number(std::string_view text) {
    std::string_view digits = text.substr(0, text.find('.'));
    if (digits.size() < text.size() && text.find_first_not_of('0', digits.size() + 1) != std::string_view::npos) {
      return std::nullopt;
    }
    long long value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || end != digits.data() + digits.size()) {
      return std::nullopt;
    }
    if (error == std::errc::result_out_of_range) {
      return std::optional<long long>();
    }
    if (error != std::errc()) {
      return std::nullopt;
    }
    return std::optional<long long>(value);
  }

  void wrong_type(const DbValue& value, const std::string& column, const std::string& key, ColumnType expected) {
    report(at(key, column), "expected " + std::string(type_name(expected)) + ", got " + to_string(value.type) + " " +
                                shown(value.text));
  }

  std::string m_label;
  const DbRows& m_rows;
  const std::vector<ColumnSpec>& m_columns;
  model::Diagnostics& m_diagnostics;
  std::size_t m_reported_before = m_diagnostics.size();
  std::map<std::string, std::size_t> m_index;
};

/// The row's key for messages: the key columns joined by '/', or "#n" (1-based
/// row number) for a part that is null (reported where it is read).
inline std::string row_key(RowReader& reader, std::size_t row, std::initializer_list<const char*> columns) {
  std::string key;
  for (const char* column : columns) {
    std::optional<std::string> part = reader.text(row, column, "#" + std::to_string(row + 1));
    key += (key.empty() ? "" : "/") + part.value_or("#" + std::to_string(row + 1));
  }
  return key;
}


}  // namespace adapters::app_db
