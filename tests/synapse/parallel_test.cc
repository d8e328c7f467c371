// The example applied to two fresh real servers (or two instances on an
// operator's), once with `--parallel 1` and once with the default: both
// servers end in the same state, compared room by room after naming every
// room and user by its key.

#include <catch2/catch.hpp>

#include <algorithm>

#include "tests/synapse/fixture.h"
#include "tests/synapse/truth.h"

namespace parallel_test {

using synapse_e2e::Fixture;
using synapse_e2e::state_content;

namespace {

// Every managed room's state as the server shows it, with room and user ids
// replaced by "!<key>" and "@<key>" (and a run suffix by "<run>") so that
// two servers, or two instances on one, compare equal.
nlohmann::json normalised_dump(const Fixture& fx) {
  std::vector<std::pair<std::string, std::string>> names;  // id → stable name
  for (const auto& [key, account] : fx.example().at("accounts").items()) {
    names.emplace_back(account.at("user_id").get<std::string>(), "@" + key);
  }
  names.emplace_back(fx.bot(), "@bot");
  if (!fx.server().run_suffix().empty()) {
    names.emplace_back(fx.server().run_suffix(), "<run>");  // in aliases and the marker's instance
  }
  synapse_e2e::RoomIds ids(fx, fx.example());
  nlohmann::json dump = nlohmann::json::object();
  for (const auto& [key, room] : fx.example().at("rooms").items()) {
    auto room_id = ids.of(key);
    if (!room_id) {
      dump[key] = "no room";
      continue;
    }
    names.emplace_back(*room_id, "!" + key);
    const auto state = fx.server().room_state(*room_id);
    nlohmann::json out;
    const auto create = state_content(state, "m.room.create");
    out["create"] = {{"type", create.value("type", nlohmann::json())}, {"room_version", create.value("room_version", nlohmann::json())}};
    for (const char* type : {"m.room.name", "m.room.topic", "m.room.avatar", "m.room.join_rules",
                             "m.room.power_levels", "m.room.history_visibility", "m.room.encryption",
                             "m.room.guest_access", "m.room.canonical_alias", "org.mxctl.managed"}) {
      out[type] = state_content(state, type);
    }
    out["members"] = synapse_e2e::memberships(state);
    for (const auto& [state_key, content] : state) {
      if (state_key.rfind("m.space.", 0) == 0) {
        out["space links"][state_key] = content;
      }
    }
    dump[key] = out;
  }
  // Longest first, so that no id is replaced inside a longer one.
  std::sort(names.begin(), names.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::string text = dump.dump();
  for (const auto& [id, name] : names) {
    for (auto at = text.find(id); at != std::string::npos; at = text.find(id, at + name.size())) {
      text.replace(at, id.size(), name);
    }
  }
  return nlohmann::json::parse(text);
}

}  // namespace

TEST_CASE("synapse: --parallel 1 and the default parallelism reach the same end state", "[synapse][parallel]") {
  auto serial = Fixture::create();
  if (!serial) {
    return;
  }
  auto parallel = Fixture::create();
  REQUIRE(parallel);
  serial->apply({"--parallel", "1"});
  parallel->apply();

  for (const Fixture* fx : {serial.get(), parallel.get()}) {
    auto problems = synapse_e2e::convergence_problems(*fx, fx->example());
    INFO(synapse_e2e::lines(problems));
    CHECK(problems.empty());
  }
  const nlohmann::json one = normalised_dump(*serial);
  const nlohmann::json eight = normalised_dump(*parallel);
  CHECK(one.size() == serial->example().at("rooms").size());
  for (const auto& [key, room] : one.items()) {
    INFO(key);
    CHECK(room == eight.value(key, nlohmann::json()));
  }
  CHECK(one.size() == eight.size());

  for (const Fixture* fx : {serial.get(), parallel.get()}) {
    auto plan = fx->plan();
    INFO(synapse_e2e::shown(plan));
    CHECK(plan.exit_code == 0);
  }
}

}  // namespace parallel_test
