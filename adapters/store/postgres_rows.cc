#include "adapters/store/postgres_rows.h"

#include <utility>

namespace adapters::postgres_store {

model::Error store_damaged(std::string_view doing, std::string_view what) {
  return model::make_error(model::Error::Kind::invalid,
                           "cannot " + std::string(doing) + ": " + std::string(what) + "; the store is damaged");
}

model::Result<std::vector<std::vector<std::string>>> row_texts(model::Result<postgres::Rows> rows,
                                                              std::string_view doing) {
  if (!rows) {
    return tl::unexpected(rows.error());
  }
  std::vector<std::vector<std::string>> out;
  out.reserve(rows->rows.size());
  for (std::vector<postgres::Value>& row : rows->rows) {
    std::vector<std::string> values;
    values.reserve(row.size());
    for (postgres::Value& value : row) {
      if (!value) {
        return tl::unexpected(store_damaged(doing, "a value is NULL where the schema allows none"));
      }
      values.push_back(std::move(*value));
    }
    out.push_back(std::move(values));
  }
  return out;
}

model::Result<std::set<std::string>> text_set(model::Result<postgres::Rows> rows, std::string_view doing) {
  auto read = row_texts(std::move(rows), doing);
  if (!read) {
    return tl::unexpected(read.error());
  }
  std::set<std::string> out;
  for (std::vector<std::string>& row : *read) {
    out.insert(std::move(row.at(0)));
  }
  return out;
}

}  // namespace adapters::postgres_store
