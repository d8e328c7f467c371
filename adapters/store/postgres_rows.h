#pragma once
// Rows the PostgreSQL store reads back, as the store's own types. Private
// to the store: every column read through here was written by mxctl, so a
// NULL or a malformed value is damage, said as such and never read as
// another value.

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/postgres/postgres_connection.h"
#include "model/result.h"

namespace adapters::postgres_store {

/// "cannot <doing>: <what>; the store is damaged".
model::Error store_damaged(std::string_view doing, std::string_view what);

/// Every value of `rows` as text; a NULL anywhere is damage. An error in
/// `rows` is passed on.
model::Result<std::vector<std::vector<std::string>>> row_texts(model::Result<postgres::Rows> rows,
                                                              std::string_view doing);

/// The first column of every row, as a set; a NULL is damage.
model::Result<std::set<std::string>> text_set(model::Result<postgres::Rows> rows, std::string_view doing);

}  // namespace adapters::postgres_store
