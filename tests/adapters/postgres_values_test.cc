#include <catch2/catch.hpp>

#include <cstdint>

#include "adapters/postgres/postgres_connection.h"

namespace postgres_values_test {

using adapters::postgres::integer_value;
using adapters::postgres::Value;

TEST_CASE("a column's integer is read only when the whole text is one", "[postgres_values]") {
  CHECK(integer_value<int>(Value("42")) == 42);
  CHECK(integer_value<int>(Value("-7")) == -7);
  CHECK(integer_value<std::int64_t>(Value("9223372036854775807")) == INT64_MAX);
  CHECK(integer_value<std::int64_t>(Value("2147483648")) == 2147483648LL);
  for (const char* damaged : {"", " 1", "1 ", "1.5", "+1", "0x1", "1e3", "12abc", "--1", "2147483648"}) {
    INFO(damaged);
    CHECK_FALSE(integer_value<int>(Value(damaged)));
  }
  CHECK_FALSE(integer_value<std::int64_t>(Value("9223372036854775808")));
  CHECK_FALSE(integer_value<std::int64_t>(std::nullopt));
}

}  // namespace postgres_values_test
