// A command's plan outlives the command until the next one replaces it.

#include <catch2/catch.hpp>

#include <memory>

#include "controller/kept_until_exit.h"

namespace kept_until_exit_test {

// Counts its live instances.
struct Counted {
  explicit Counted(int& count) : live(&count) { ++count; }
  Counted(Counted&& other) noexcept : live(other.live) { ++*live; }
  Counted(const Counted&) = delete;
  ~Counted() { --*live; }
  int* live;
};

TEST_CASE("kept until exit: a value outlives its holder until the next one is kept", "[kept_until_exit]") {
  int live = 0;
  {
    controller::KeptUntilExit<Counted> held{Counted(live)};
    CHECK(held->live == &live);
    CHECK(live == 1);
  }
  CHECK(live == 1);  // the holder is gone, the value is not
  {
    controller::KeptUntilExit<Counted> next{Counted(live)};
    CHECK(live == 2);
  }
  CHECK(live == 1);  // the first was destroyed when the second was kept
  controller::keep_until_exit(nullptr);
  CHECK(live == 0);
}

}  // namespace kept_until_exit_test
