#include "adapters/account_provisioning.h"

#include <set>

namespace adapters {

namespace {

const std::string k_client = "/_matrix/client/v3";
const std::string k_admin_v2 = "/_synapse/admin/v2";
constexpr int k_user_page_size = 5000;

// The action and the account's key and id, then the server's words (method,
// path, status, errcode, message) and, where one helps, a hint.
tl::unexpected<model::Error> failed(const MatrixFailure& failure, const std::string& action,
                                    const std::string& hint = "") {
  model::Error error = failure.error;
  error.message = action + ": " + error.message + hint;
  return tl::unexpected(error);
}

std::string named(const model::Account& account) { return account.key + " (" + account.user_id + ")"; }

bool truthy(const nlohmann::json& value) {
  // Synapse 1.67 sends 0/1 integers, newer releases booleans.
  return value.is_boolean() ? value.get<bool>() : value.is_number_integer() && value.get<int>() != 0;
}

const char* const k_cannot_suspend =
    "this homeserver's admin API shows neither `suspended` nor `locked` on accounts, so it has no suspend API "
    "and no `locked` flag (Synapse before 1.93 is such a server)";

std::optional<std::string> optional_string(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

model::Result<void> observe_with_admin_api(MatrixClient& client, const model::MatrixState& desired,
                                           model::ObservedState& out) {
  std::map<std::string, std::string> key_of_user;
  for (const auto& [key, account] : desired.accounts) {
    key_of_user[account.user_id] = key;
  }
  // Pages of the admin user list: requests grow with users/5,000, not users.
  // Synapse sets no maximum on `limit` and counts every user on each page
  // (`total`), so few large pages are cheaper for it than many small ones;
  // 5,000 entries are about 2 MB of JSON, which bounds one response. Pages
  // of 500 made a no-op pass at 10,000 users cost 21 requests for this list.
  std::string from = "0";
  while (true) {
    auto page = client.get(k_admin_v2 + "/users?deactivated=true&locked=true&limit=" +
                           std::to_string(k_user_page_size) + "&from=" +
                           encode_path_segment(from));
    if (!page) {
      return failed(page.error(), "cannot list accounts");
    }
    for (const nlohmann::json& user : page->value("users", nlohmann::json::array())) {
      auto it = key_of_user.find(user.value("name", ""));
      if (it == key_of_user.end()) {
        continue;
      }
      const model::Account& want = desired.accounts.at(it->second);
      model::Account have;
      have.key = it->second;
      have.user_id = want.user_id;
      have.localpart = want.localpart;
      have.display_name = optional_string(user, "displayname");
      have.avatar_url = optional_string(user, "avatar_url");
      have.admin = truthy(user.value("admin", nlohmann::json(false)));
      bool inactive = truthy(user.value("deactivated", nlohmann::json(false))) ||
                      truthy(user.value("suspended", nlohmann::json(false))) ||
                      truthy(user.value("locked", nlohmann::json(false)));
      have.status = inactive ? model::AccountStatus::suspended : model::AccountStatus::active;
      have.linked_accounts = want.linked_accounts;
      out.accounts[have.key] = have;
    }
    auto next = page->find("next_token");
    if (next == page->end() || next->is_null()) {
      break;
    }
    from = next->is_string() ? next->get<std::string>() : std::to_string(next->get<std::int64_t>());
  }
  return {};
}

// Synapse's user list shows `locked` and `deactivated` but not `suspended`:
// the accounts that should be suspended, or that mxctl suspended, are read
// one by one (requests grow with suspended accounts, not with all of them).
// The same answer tells whether the server can suspend at all: one that
// shows neither `suspended` nor `locked` (Synapse before 1.93) has no way to
// do it that mxctl could read back.
model::Result<void> observe_suspensions(MatrixClient& client, const model::Settings& settings,
                                        const model::MatrixState& desired,
                                        const std::set<std::string>& suspended_by_us, model::ObservedState& out) {
  for (auto& [key, have] : out.accounts) {
    auto want = desired.accounts.find(key);
    bool wanted = want != desired.accounts.end() && want->second.status == model::AccountStatus::suspended;
    if (have.status == model::AccountStatus::suspended || (!wanted && !suspended_by_us.count(key))) {
      continue;
    }
    auto user = client.get(k_admin_v2 + "/users/" + encode_path_segment(have.user_id));
    if (!user) {
      return failed(user.error(), "cannot read the account of " + have.user_id);
    }
    if (account_suspended(*user)) {
      have.status = model::AccountStatus::suspended;
    }
    if (!settings.deactivate_accounts && !user->contains("suspended") && !user->contains("locked")) {
      out.cannot_suspend = k_cannot_suspend;
    }
  }
  return {};
}

std::string profile_path(const std::string& user_id) { return k_client + "/profile/" + encode_path_segment(user_id); }

// An appservice cannot list accounts: one public profile read per desired
// account tells whether it exists (404 = absent). Unlike the admin API's
// pages of 5,000, the request count here grows with the number of users. On
// Synapse with limit_profile_requests_to_users_who_share_rooms, users who
// share no room with the bot answer 403, which is reported, not guessed at.
model::Result<void> observe_as_appservice(MatrixClient& client, const model::MatrixState& desired,
                                          model::ObservedState& out) {
  for (const auto& [key, want] : desired.accounts) {
    auto profile = client.get(profile_path(want.user_id));
    if (!profile) {
      if (profile.error().error.kind == model::Error::Kind::not_found) {
        continue;
      }
      return failed(profile.error(), "cannot read the profile of account " + named(want));
    }
    model::Account have;
    have.key = key;
    have.user_id = want.user_id;
    have.localpart = want.localpart;
    have.display_name = optional_string(*profile, "displayname");
    have.avatar_url = optional_string(*profile, "avatar_url");
    // Neither the admin flag nor suspension is visible to an appservice; the
    // desired flag is reported so the plan never proposes what this mode
    // cannot do (grant server admin on the homeserver itself).
    have.admin = want.admin;
    have.status = model::AccountStatus::active;
    have.linked_accounts = want.linked_accounts;
    out.accounts[key] = have;
  }
  return {};
}

model::Result<void> put_with_admin_api(MatrixClient& client, const model::Account& account, bool creating) {
  nlohmann::json body = {{"admin", account.admin}};
  if (account.display_name) {
    body["displayname"] = *account.display_name;
  }
  if (account.avatar_url) {
    body["avatar_url"] = *account.avatar_url;
  }
  auto result = client.put(k_admin_v2 + "/users/" + encode_path_segment(account.user_id), body);
  if (!result) {
    return failed(result.error(), std::string(creating ? "create" : "update") + " account " + named(account));
  }
  return {};
}

// Hints for the appservice registration errors operators actually meet.
std::string register_hint(const MatrixFailure& failure) {
  if (failure.errcode == "M_EXCLUSIVE") {
    return " (the account is outside the appservice's user namespace, or another appservice reserves it)";
  }
  if (failure.errcode == "M_UNKNOWN_TOKEN" || failure.errcode == "M_MISSING_TOKEN") {
    return " (the access token must be the as_token of a registration the homeserver loaded)";
  }
  return "";
}

model::Result<void> put_as_appservice(MatrixClient& client, const model::Account& account, bool creating) {
  const std::string action = std::string(creating ? "create" : "update") + " account " + named(account);
  if (creating) {
    // inhibit_login: mxctl never acts as the user, so no device or token is
    // minted for it. M_USER_IN_USE means an earlier attempt (or someone else
    // in our namespace) got there first: the account exists, as desired.
    nlohmann::json body = {
        {"type", "m.login.application_service"}, {"username", account.localpart}, {"inhibit_login", true}};
    auto registered = client.post(k_client + "/register", body);
    if (!registered && registered.error().errcode != "M_USER_IN_USE") {
      return failed(registered.error(), action, register_hint(registered.error()));
    }
  }
  if (!account.display_name && !account.avatar_url) {
    return {};
  }
  // Read first: every profile write makes the homeserver send a new member
  // event into each of the user's rooms, so unchanged fields are not written.
  auto current = client.get(profile_path(account.user_id));
  if (!current) {
    return failed(current.error(), action + ": read its profile");
  }
  const std::pair<const char*, const std::optional<std::string>*> fields[] = {
      {"displayname", &account.display_name}, {"avatar_url", &account.avatar_url}};
  for (const auto& [field, want] : fields) {
    if (!*want || optional_string(*current, field) == **want) {
      continue;
    }
    // Masquerading: the appservice acts as the user it registered.
    auto written = client.put(profile_path(account.user_id) + "/" + field +
                                  "?user_id=" + encode_path_segment(account.user_id),
                              {{field, **want}});
    if (!written) {
      return failed(written.error(), action + ": set " + field);
    }
  }
  return {};
}

}  // namespace

bool account_suspended(const nlohmann::json& details) {
  return truthy(details.value("suspended", nlohmann::json(false))) ||
         truthy(details.value("locked", nlohmann::json(false)));
}

bool account_deactivated(const nlohmann::json& details) {
  return truthy(details.value("deactivated", nlohmann::json(false)));
}

model::Result<void> observe_accounts(MatrixClient& client, const model::Settings& settings,
                                     const model::MatrixState& desired, const std::set<std::string>& suspended_by_us,
                                     model::ObservedState& out) {
  if (desired.accounts.empty()) {
    return {};
  }
  if (settings.provisioning == model::ProvisioningMode::appservice) {
    return observe_as_appservice(client, desired, out);
  }
  if (auto listed = observe_with_admin_api(client, desired, out); !listed) {
    return listed;
  }
  return observe_suspensions(client, settings, desired, suspended_by_us, out);
}

model::Result<void> provision_account(MatrixClient& client, const model::Settings& settings,
                                      const model::Account& account, bool creating) {
  if (settings.provisioning == model::ProvisioningMode::appservice) {
    return put_as_appservice(client, account, creating);
  }
  return put_with_admin_api(client, account, creating);
}

}  // namespace adapters
