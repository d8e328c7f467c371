#include "controller/converged_verdict.h"

#include <algorithm>
#include <limits>

#include "adapters/sha256.h"
#include "model/byte_codec.h"

namespace controller {

namespace {

// Bumped when what goes into the key changes shape.
constexpr std::string_view k_key_tag = "mxctl.converged-verdict.1";

void put_set(model::ByteWriter& out, const std::set<std::string>& values) {
  out.unsigned_int(values.size());
  for (const std::string& value : values) {
    out.text(value);
  }
}

void put_map(model::ByteWriter& out, const std::map<std::string, std::string>& values) {
  out.unsigned_int(values.size());
  for (const auto& [key, value] : values) {
    out.text(key);
    out.text(value);
  }
}

}  // namespace

std::string verdict_key(const VerdictBasis& basis, const std::string& port_basis,
                        const adapters::ObserveHints& hints, const model::LifecycleRecords& records,
                        const model::DiffOptions& diff, int grace_period_days, std::int64_t valid_until_ms) {
  model::ByteWriter out;
  out.text(k_key_tag);
  out.text(basis.desired_digest);
  out.text(port_basis);
  put_map(out, hints.room_ids);
  put_set(out, hints.messages_sent);
  out.unsigned_int(hints.directs_set.size());
  for (const auto& [key, user] : hints.directs_set) {
    out.text(key);
    out.text(user);
  }
  put_map(out, hints.room_snapshot_digests);
  put_set(out, hints.rooms_written);
  put_set(out, hints.rooms_created);
  put_set(out, hints.suspended_accounts);
  out.unsigned_int(records.archived_at.size());
  for (const auto& [key, at] : records.archived_at) {
    out.text(key);
    out.signed_int(at);
  }
  put_set(out, records.protected_addresses);
  put_map(out, records.managed_accounts);
  out.text(diff.bot_user_id);
  for (bool flag : {diff.reinvite_to_community_rooms, diff.reinvite_to_council_rooms, diff.manage_account_status,
                    diff.upgrade_rooms, diff.invite_with_create_room}) {
    out.unsigned_int(flag ? 1 : 0);
  }
  out.signed_int(grace_period_days);
  out.signed_int(valid_until_ms);
  // The inputs' hash, then a MAC of it under the secret.
  adapters::Sha256 digest;
  digest.update(std::move(out).take());
  return adapters::hmac_sha256_hex(basis.secret, digest.hex());
}

std::int64_t verdict_valid_until(const model::ObservedState& observed, const model::LifecycleRecords& records,
                                 int grace_period_days) {
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
  const std::int64_t grace = model::days_ms(grace_period_days);
  auto consider = [&](std::int64_t archived_at) {
    if (archived_at <= std::numeric_limits<std::int64_t>::max() - grace) {
      until = std::min(until, archived_at + grace);
    }
  };
  for (const auto& [key, room] : observed.rooms) {
    if (room.room.archived_at) {
      consider(*room.room.archived_at);
    }
  }
  for (const auto& [key, at] : records.archived_at) {
    consider(at);
  }
  return until;
}

}  // namespace controller
