// The probe a pass keeps in the state store: its JSON reads back as it was
// written, anything else reads as nothing (so the next pass probes afresh),
// and its key tells tokens apart without holding one. That the store keeps
// the last one, on both engines, is store_observation_contract_test.cc.

#include <catch2/catch.hpp>

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "adapters/homeserver/capabilities_json.h"

namespace kept_probe_test {

namespace {

adapters::Capabilities sample() {
  adapters::Capabilities caps;
  caps.user_id = "@mxctl:example.org";
  caps.synapse_version = "Synapse 1.67.0";
  caps.server_admin = true;
  caps.versions = {"v1.1", "v1.2"};
  caps.rate_limits.state = adapters::RateLimits::State::limited;
  caps.rate_limits.override_rate = adapters::RateOverride{0.5, 3};
  caps.rate_limits.description = "@mxctl:example.org has a rate-limit override of 0.5 messages/s";
  caps.rate_limits.remedy = "an admin can lift it";
  return caps;
}

}  // namespace

TEST_CASE("kept probe: capabilities read back as written, rate limits left to be asked", "[probe]") {
  const adapters::Capabilities caps = sample();
  auto back = adapters::capabilities_from_json(adapters::capabilities_json(caps));
  REQUIRE(back);
  CHECK(back->user_id == caps.user_id);
  CHECK(back->synapse_version == caps.synapse_version);
  CHECK(back->server_admin);
  CHECK(back->versions == caps.versions);
  // An operator who lifts a limit must see the next plan say so.
  CHECK(back->rate_limits.state == adapters::RateLimits::State::unknown);
  CHECK_FALSE(back->rate_limits.override_rate);
}

TEST_CASE("kept probe: anything but what was written reads as nothing", "[probe]") {
  nlohmann::json good = nlohmann::json::parse(adapters::capabilities_json(sample()));
  auto broken = [&good](const std::function<void(nlohmann::json&)>& damage) {
    nlohmann::json copy = good;
    damage(copy);
    return adapters::capabilities_from_json(copy.dump());
  };
  CHECK_FALSE(adapters::capabilities_from_json(""));
  CHECK_FALSE(adapters::capabilities_from_json("{"));
  CHECK_FALSE(adapters::capabilities_from_json("[]"));
  CHECK_FALSE(broken([](nlohmann::json& j) { j["v"] = 2; }));
  CHECK_FALSE(broken([](nlohmann::json& j) { j.erase("user_id"); }));
  CHECK_FALSE(broken([](nlohmann::json& j) { j["user_id"] = ""; }));
  CHECK_FALSE(broken([](nlohmann::json& j) { j["server_admin"] = "yes"; }));
  CHECK_FALSE(broken([](nlohmann::json& j) { j["versions"] = {"v1.1", 2}; }));
  CHECK(broken([](nlohmann::json&) {}));
}

TEST_CASE("kept probe: the key tells server, mode, bot and token apart, and holds no token", "[probe]") {
  model::Settings settings;
  settings.homeserver_url = "https://matrix.example.org";
  settings.bot_user_id = "@mxctl:example.org";
  const std::string key = adapters::probe_key(settings, "syt_secret_token");
  CHECK(key.find("syt_secret_token") == std::string::npos);
  CHECK(key == adapters::probe_key(settings, "syt_secret_token"));
  CHECK(key != adapters::probe_key(settings, "syt_other_token"));
  model::Settings other_server = settings;
  other_server.homeserver_url = "https://other.example.org";
  CHECK(key != adapters::probe_key(other_server, "syt_secret_token"));
  model::Settings appservice = settings;
  appservice.provisioning = model::ProvisioningMode::appservice;
  CHECK(key != adapters::probe_key(appservice, "syt_secret_token"));
  model::Settings other_bot = settings;
  other_bot.bot_user_id = "@other:example.org";
  CHECK(key != adapters::probe_key(other_bot, "syt_secret_token"));
}

}  // namespace kept_probe_test
