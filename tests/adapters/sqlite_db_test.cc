// The SQLite wrappers' statement cache: a kept statement is reset after each
// use, and a nested use of the same SQL never shares it.

#include <catch2/catch.hpp>

#include "adapters/store/sqlite_db.h"

namespace sqlite_db_test {

TEST_CASE("sqlite db: a kept statement is reset after use, and a nested use of the same SQL gets its own",
          "[store]") {
  auto db = adapters::sqlite::Database::open(":memory:", "open");
  REQUIRE(db);
  REQUIRE((*db)->exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)", "create"));
  const char* sql = "SELECT x FROM t ORDER BY x";
  {
    auto first = (*db)->cached(sql, "first");
    REQUIRE(first);
    REQUIRE(first->step("first").value());
    CHECK(first->int64(0) == 1);
  }
  // Reset when the borrower was done: the next use starts from the first row.
  auto outer = (*db)->cached(sql, "outer");
  REQUIRE(outer);
  {
    // Lent out already (though not stepped yet): this one is fresh, and
    // running it through does not move the outer one.
    auto inner = (*db)->cached(sql, "inner");
    REQUIRE(inner);
    REQUIRE(inner->step("inner").value());
    REQUIRE(inner->step("inner").value());
    CHECK(inner->int64(0) == 2);
  }
  REQUIRE(outer->step("outer").value());
  CHECK(outer->int64(0) == 1);
  REQUIRE(outer->step("outer").value());
  CHECK(outer->int64(0) == 2);
  CHECK_FALSE(outer->step("outer").value());
}

}  // namespace sqlite_db_test
