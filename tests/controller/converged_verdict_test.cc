// The converged verdict's key and lifetime: every input a plan is made from
// changes the key, and the lifetime ends with the first grace period.

#include <catch2/catch.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "controller/converged_verdict.h"

namespace converged_verdict_test {

namespace {

struct Inputs {
  controller::VerdictBasis basis{"desired-digest", "secret-token"};
  std::string port_basis = "build+settings+caps";
  adapters::ObserveHints hints;
  model::LifecycleRecords records;
  model::DiffOptions diff;
  int grace = 60;
  std::int64_t valid_until = 1000;

  std::string key() const {
    return controller::verdict_key(basis, port_basis, hints, records, diff, grace, valid_until);
  }
};

Inputs sample() {
  Inputs in;
  in.hints.room_ids = {{"community/a", "!a:x"}};
  in.hints.messages_sent = {"coordination/r"};
  in.hints.directs_set = {{"coordination/r", "@u:x"}};
  in.hints.room_snapshot_digests = {{"!a:x", "d1"}};
  in.hints.rooms_created = {"community/a"};
  in.hints.suspended_accounts = {"gone"};
  in.hints.sync_token = "s1";
  in.records.archived_at = {{"community/b", 5}};
  in.records.protected_addresses = {"room.community/a"};
  in.records.managed_accounts = {{"alice", "@alice:x"}};
  in.diff.bot_user_id = "@bot:x";
  return in;
}

}  // namespace

TEST_CASE("a verdict's key changes with every input a plan is made from", "[converged_verdict]") {
  const std::string base = sample().key();
  CHECK(base == sample().key());
  const std::vector<std::pair<const char*, std::function<void(Inputs&)>>> changes = {
      {"secret", [](Inputs& in) { in.basis.secret = "another-token"; }},
      {"desired", [](Inputs& in) { in.basis.desired_digest = "other"; }},
      {"port", [](Inputs& in) { in.port_basis = "other caps"; }},
      {"room id", [](Inputs& in) { in.hints.room_ids["community/a"] = "!b:x"; }},
      {"message", [](Inputs& in) { in.hints.messages_sent.clear(); }},
      {"direct", [](Inputs& in) { in.hints.directs_set.insert({"coordination/r", "@v:x"}); }},
      {"snapshot", [](Inputs& in) { in.hints.room_snapshot_digests["!a:x"] = "d2"; }},
      {"written", [](Inputs& in) { in.hints.rooms_written.insert("!a:x"); }},
      {"created", [](Inputs& in) { in.hints.rooms_created.clear(); }},
      {"suspended", [](Inputs& in) { in.hints.suspended_accounts.insert("alice"); }},
      {"archive time", [](Inputs& in) { in.records.archived_at["community/b"] = 6; }},
      {"protection", [](Inputs& in) { in.records.protected_addresses.clear(); }},
      {"managed", [](Inputs& in) { in.records.managed_accounts["bob"] = "@bob:x"; }},
      {"bot", [](Inputs& in) { in.diff.bot_user_id = "@other:x"; }},
      {"reinvite", [](Inputs& in) { in.diff.reinvite_to_community_rooms = true; }},
      {"upgrade", [](Inputs& in) { in.diff.upgrade_rooms = true; }},
      {"status", [](Inputs& in) { in.diff.manage_account_status = false; }},
      {"grace", [](Inputs& in) { in.grace = 30; }},
      {"lifetime", [](Inputs& in) { in.valid_until = 2000; }},
  };
  for (const auto& [what, change] : changes) {
    INFO(what);
    Inputs in = sample();
    change(in);
    CHECK(in.key() != base);
  }
  // What only spares work is not part of it.
  Inputs spared = sample();
  spared.hints.sync_token = "s2";
  spared.hints.room_reads["!a:x"] = {"digest", "read"};
  CHECK(spared.key() == base);
}

TEST_CASE("a verdict stands until the first archived room's grace period ends", "[converged_verdict]") {
  model::ObservedState observed;
  model::LifecycleRecords records;
  CHECK(controller::verdict_valid_until(observed, records, 60) == std::numeric_limits<std::int64_t>::max());
  observed.rooms["community/a"].room.archived_at = 1000;
  records.archived_at["community/b"] = 500;
  CHECK(controller::verdict_valid_until(observed, records, 1) == 500 + model::days_ms(1));
  records.archived_at.clear();
  CHECK(controller::verdict_valid_until(observed, records, 1) == 1000 + model::days_ms(1));
  // A date so late that its end does not fit is no end.
  observed.rooms["community/a"].room.archived_at = std::numeric_limits<std::int64_t>::max() - 1;
  CHECK(controller::verdict_valid_until(observed, records, 60) == std::numeric_limits<std::int64_t>::max());
}

}  // namespace converged_verdict_test
