// A pass over unchanged manifests and settings reads the compiled desired
// state back from the store instead of parsing and compiling the YAML; any
// change to a manifest compiles afresh, a damaged kept state or one changed
// by someone without the bot's token is compiled over, and broken manifests
// are reported whatever the store keeps.

#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "adapters/state_store.h"
#include "controller/desired_cache.h"
#include "model/state_codec.h"
#include "tests/e2e/fixture.h"
#include "tests/support/process.h"

namespace desired_cache_test {

namespace {

using e2e::Fixture;

adapters::CompiledDesired kept(const Fixture& fx) {
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  auto compiled = (*store)->compiled_desired();
  REQUIRE(compiled);
  REQUIRE(*compiled);
  return **compiled;
}

void keep(const Fixture& fx, const adapters::CompiledDesired& compiled) {
  auto store = adapters::open_sqlite_store(fx.state());
  REQUIRE(store);
  REQUIRE((*store)->keep_compiled_desired(compiled));
}

// The kept state, opened with the bot's token as a pass opens it.
model::MatrixState kept_state(const Fixture& fx) {
  const adapters::CompiledDesired compiled = kept(fx);
  auto state = controller::open_desired(compiled.state, compiled.digest, fx.token());
  REQUIRE(state);
  return *state;
}

}  // namespace

TEST_CASE("e2e: unchanged manifests are read from the store compiled, a change compiles afresh",
          "[e2e][desired_cache]") {
  Fixture fx;
  auto applied = fx.mxctl({"apply", fx.manifests(), "--yes"});
  INFO(applied.out << applied.err);
  REQUIRE(applied.exit_code == 0);

  // The kept state is the one the manifests compile to. To see that a pass
  // uses it, not the YAML, it is swapped for one that differs in a name,
  // sealed with the bot's token as mxctl seals it.
  const adapters::CompiledDesired original = kept(fx);
  model::MatrixState state = kept_state(fx);
  REQUIRE(state.accounts.count("alice"));
  state.accounts["alice"].display_name = "Recalled Name";
  {
    auto store = adapters::open_sqlite_store(fx.state());
    REQUIRE(store);
    controller::keep_desired(**store, original.digest, state, fx.token());
  }
  const adapters::CompiledDesired compiled = kept(fx);

  auto recalled = fx.mxctl({"plan", fx.manifests()});
  INFO(recalled.out << recalled.err);
  REQUIRE(recalled.exit_code == 0);
  CHECK(recalled.out.find("Recalled Name") != std::string::npos);

  SECTION("a changed manifest is parsed and compiled, and kept in place of the old state") {
    fx.edit("users.yaml", "displayName: Carol Nguyen", "displayName: Carol N.");
    auto changed = fx.mxctl({"plan", fx.manifests()});
    INFO(changed.out << changed.err);
    REQUIRE(changed.exit_code == 0);
    CHECK(changed.out.find("Recalled Name") == std::string::npos);
    CHECK(changed.out.find("Carol N.") != std::string::npos);
    CHECK(kept(fx).digest != compiled.digest);
  }
  SECTION("a damaged kept state is compiled over") {
    keep(fx, {compiled.digest, compiled.state.substr(0, compiled.state.size() / 2)});
    auto plan = fx.mxctl({"plan", fx.manifests()});
    INFO(plan.out << plan.err);
    REQUIRE(plan.exit_code == 0);
    CHECK(plan.out.find("Recalled Name") == std::string::npos);
    CHECK(plan.out.find("No changes") != std::string::npos);
    CHECK(kept(fx).state == original.state);
  }
  SECTION("a state changed without the bot's token is compiled over, not used") {
    // What someone who can write the store but does not hold the token can
    // do: put other bytes behind the seal that is there.
    state.accounts["alice"].display_name = "Forged Name";
    keep(fx, {compiled.digest, compiled.state.substr(0, 64) + model::encode_matrix_state(state)});
    auto plan = fx.mxctl({"plan", fx.manifests()});
    INFO(plan.out << plan.err);
    REQUIRE(plan.exit_code == 0);
    CHECK(plan.out.find("Forged Name") == std::string::npos);
    CHECK(plan.out.find("No changes") != std::string::npos);
    CHECK(kept(fx).state == original.state);
  }
  SECTION("the digest is keyed with the bot's token: under another token the kept state is not used") {
    std::map<std::string, std::string> env = fx.env();
    env["MATRIX_BOT_ACCESS_TOKEN"] = fx.homeserver().issue_token(e2e::k_bot);
    auto plan = testing_support::run_process({MXCTL_BINARY, "plan", fx.manifests()}, env);
    INFO(plan.out << plan.err);
    REQUIRE(plan.exit_code == 0);
    CHECK(plan.out.find("Recalled Name") == std::string::npos);
    CHECK(plan.out.find("No changes") != std::string::npos);
  }
  SECTION("a broken manifest is reported, never covered by the kept state") {
    fx.edit("users.yaml", "displayName: Carol Nguyen", "displayName: [Carol");
    auto broken = fx.mxctl({"plan", fx.manifests()});
    CHECK(broken.exit_code != 0);
    CHECK(broken.err.find("users.yaml:") != std::string::npos);
  }
}

}  // namespace desired_cache_test
