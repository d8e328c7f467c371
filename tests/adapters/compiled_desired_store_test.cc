// The state store keeps one compiled desired state, bytes exactly as given,
// across reopening.

#include <catch2/catch.hpp>

#include <string>

#include "adapters/store/sqlite_state_store.h"
#include "tests/support/temp_dir.h"

namespace compiled_desired_store_test {

TEST_CASE("compiled desired: the store keeps the last one, bytes exact, across reopening", "[sqlite][desired_cache]") {
  testing_support::TempDir dir;
  const std::string path = (dir.path() / "mxctl.db").string();
  // Binary: NULs and bytes that are not UTF-8 must come back as they went.
  const std::string bytes("\0\xff\x80state\0", 9);
  {
    auto store = adapters::SqliteStateStore::open(path);
    REQUIRE(store);
    auto none = (*store)->compiled_desired();
    REQUIRE(none);
    CHECK_FALSE(*none);
    REQUIRE((*store)->keep_compiled_desired({"digest one", "first"}));
    REQUIRE((*store)->keep_compiled_desired({"digest two", bytes}));
  }
  auto store = adapters::SqliteStateStore::open(path);
  REQUIRE(store);
  auto kept = (*store)->compiled_desired();
  REQUIRE(kept);
  REQUIRE(*kept);
  CHECK((*kept)->digest == "digest two");
  CHECK((*kept)->state == bytes);
}

}  // namespace compiled_desired_store_test
