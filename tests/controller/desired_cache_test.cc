// The compiled desired state kept under a digest of its inputs: the digest
// moves with every input (each setting, each file's name and bytes, the set
// of files), and a kept state is recalled only under its own digest and
// only when it decodes.

#include "controller/desired_cache.h"

#include <catch2/catch.hpp>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "adapters/build_identity.h"
#include "adapters/manifests/yaml_manifests.h"
#include "model/state_codec.h"
#include "tests/fakes/fake_state_store.h"

namespace desired_cache_test {

namespace {

adapters::ManifestTexts two_files() {
  adapters::ManifestTexts texts;
  texts.files = {"m/a.yaml", "m/b.yaml"};
  texts.texts = {"kind: User\n", "kind: Community\n"};
  texts.where = "m";
  return texts;
}

const std::string k_secret = "syt_bot_token";

model::MatrixState small_state() {
  model::MatrixState state;
  state.accounts["alice"].user_id = "@alice:example.org";
  state.rooms["community/riverside"].name = "Riverside";
  return state;
}

}  // namespace

TEST_CASE("desired cache: this build has an identity to key by", "[desired_cache]") {
  // Debian's toolchain links every program with a GNU build id; without
  // one nothing would ever be recalled (and nothing wrongly).
  CHECK_FALSE(adapters::build_identity().empty());
  CHECK(adapters::build_identity() == adapters::build_identity());
}

TEST_CASE("desired cache: the digest moves with the key, every setting and every byte of the manifests",
          "[desired_cache]") {
  const model::Settings settings;
  const auto base = controller::desired_digest(two_files(), settings, k_secret);
  REQUIRE(base);
  CHECK(controller::desired_digest(two_files(), settings, k_secret) == base);

  std::vector<std::function<void(model::Settings&)>> setting_changes = {
      [](auto& s) { s.homeserver_url = "https://other"; }, [](auto& s) { s.server_name = "other"; },
      [](auto& s) { s.bot_user_id = "@other:x"; },         [](auto& s) { s.alias_prefix = "other."; },
      [](auto& s) { s.marker_event_type = "other"; },      [](auto& s) { s.instance = "other"; },
      [](auto& s) { s.grace_period_days = 1; },            [](auto& s) { s.mass_change_max_percent = 1; },
      [](auto& s) { s.mass_change_max_count = 1; },        [](auto& s) { s.deactivate_accounts = true; },
      [](auto& s) { s.provisioning = model::ProvisioningMode::appservice; },
      [](auto& s) { s.room_version = "11"; },              [](auto& s) { s.appservice_rate_limited = false; },
      [](auto& s) { s.reinvite_to_community_rooms = true; }, [](auto& s) { s.reinvite_to_council_rooms = false; },
      [](auto& s) { s.force_join = true; },                [](auto& s) { s.read_timeout_seconds = 1; },
      [](auto& s) { s.request_timeout_seconds = 1; },      [](auto& s) { s.sync_timeout_seconds = 1; },
      [](auto& s) { s.max_answer_megabytes = 1; },         [](auto& s) { s.max_sync_answer_megabytes = 1; },
      [](auto& s) { s.pass_timeout_minutes = 1; },         [](auto& s) { s.resync_interval_minutes = 1; },
      [](auto& s) { s.source_interval_seconds = 1; },      [](auto& s) { s.shutdown_grace_seconds = 1; },
      [](auto& s) { s.listen = "other"; },                 [](auto& s) { s.ca_file = "other"; },
  };
  std::set<std::string> seen = {*base};
  // Another key (a token the store's writer does not hold) is another digest.
  auto other_key = controller::desired_digest(two_files(), settings, "syt_other_token");
  REQUIRE(other_key);
  CHECK(seen.insert(*other_key).second);
  for (std::size_t i = 0; i < setting_changes.size(); ++i) {
    model::Settings changed = settings;
    setting_changes[i](changed);
    auto digest = controller::desired_digest(two_files(), changed, k_secret);
    INFO("setting change " << i);
    REQUIRE(digest);
    CHECK(seen.insert(*digest).second);
  }

  std::vector<std::function<void(adapters::ManifestTexts&)>> manifest_changes = {
      [](auto& t) { t.texts[0] += " "; },
      [](auto& t) { t.files[1] = "m/c.yaml"; },
      // The same bytes cut differently between the files.
      [](auto& t) { t.texts = {"kind: User\nkind", ": Community\n"}; },
      [](auto& t) { t.files.pop_back(), t.texts.pop_back(); },
      [](auto& t) { t.where = "m m"; },
  };
  for (std::size_t i = 0; i < manifest_changes.size(); ++i) {
    adapters::ManifestTexts changed = two_files();
    manifest_changes[i](changed);
    auto digest = controller::desired_digest(changed, settings, k_secret);
    INFO("manifest change " << i);
    REQUIRE(digest);
    CHECK(seen.insert(*digest).second);
  }
}

TEST_CASE("desired cache: manifests read with a problem, or no key, have no digest", "[desired_cache]") {
  adapters::ManifestTexts broken = two_files();
  broken.diagnostics.push_back({{"m/c.yaml"}, "cannot read file"});
  CHECK_FALSE(controller::desired_digest(broken, {}, k_secret));
  CHECK_FALSE(controller::desired_digest(two_files(), {}, ""));
}

TEST_CASE("desired cache: a kept state is recalled under its own digest only, and only when it decodes",
          "[desired_cache]") {
  fakes::FakeStateStore store;
  CHECK_FALSE(controller::recall_desired(store, "d1", k_secret));

  controller::keep_desired(store, "d1", small_state(), k_secret);
  CHECK(controller::recall_desired(store, "d1", k_secret) == small_state());
  CHECK_FALSE(controller::recall_desired(store, "d2", k_secret));

  SECTION("a damaged state is compiled afresh, not read") {
    auto kept = store.compiled_desired();
    REQUIRE(kept);
    REQUIRE(*kept);
    std::string sealed = (*kept)->state;
    sealed.pop_back();
    REQUIRE(store.keep_compiled_desired({"d1", sealed}));
    CHECK_FALSE(controller::recall_desired(store, "d1", k_secret));
  }
  SECTION("a store that cannot be written keeps what it had, and nothing fails") {
    store.set_writes_fail(true);
    controller::keep_desired(store, "d3", model::MatrixState{}, k_secret);
    CHECK_FALSE(controller::recall_desired(store, "d3", k_secret));
    CHECK(controller::recall_desired(store, "d1", k_secret));
  }
}

TEST_CASE("desired cache: a state put in the store by someone without the secret is never recalled",
          "[desired_cache]") {
  fakes::FakeStateStore store;
  model::MatrixState forged = small_state();
  forged.rooms.clear();
  const std::string forged_bytes = model::encode_matrix_state(forged);
  controller::keep_desired(store, "d1", small_state(), k_secret);
  auto kept = store.compiled_desired();
  REQUIRE(kept);
  REQUIRE(*kept);
  const std::string seal = (*kept)->state.substr(0, 64);
  SECTION("another state behind the kept seal") {
    REQUIRE(store.keep_compiled_desired({"d1", seal + forged_bytes}));
    CHECK_FALSE(controller::recall_desired(store, "d1", k_secret));
  }
  SECTION("a state without any seal, as kept before states were sealed") {
    REQUIRE(store.keep_compiled_desired({"d1", forged_bytes}));
    CHECK_FALSE(controller::recall_desired(store, "d1", k_secret));
  }
  SECTION("a state sealed under another secret") {
    controller::keep_desired(store, "d1", forged, "another secret");
    CHECK_FALSE(controller::recall_desired(store, "d1", k_secret));
    CHECK(controller::recall_desired(store, "d1", "another secret") == forged);
  }
  SECTION("the kept seal moved to another digest") {
    REQUIRE(store.keep_compiled_desired({"d2", (*kept)->state}));
    CHECK_FALSE(controller::recall_desired(store, "d2", k_secret));
  }
}

}  // namespace desired_cache_test
