#include "adapters/homeserver/account_provisioning.h"

#include <set>

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"

namespace adapters {

namespace {

constexpr int k_user_page_size = 5000;

std::string named(const model::Account& account) { return account.key + " (" + account.user_id + ")"; }

const char* const k_cannot_suspend =
    "this homeserver's admin API shows neither `suspended` nor `locked` on accounts, so it has no suspend API "
    "and no `locked` flag (Synapse before 1.93 is such a server)";

// A profile field: absent, null or "" is unset; anything but a string is a
// malformed answer.
model::Result<std::optional<std::string>> profile_field(const Answer& answer, const nlohmann::json& object,
                                                        const std::string& where, const char* name) {
  auto found = answer.optional_field(object, where, name, JsonType::string);
  if (!found) {
    return tl::unexpected(found.error());
  }
  if (!*found || (*found)->get_ref<const std::string&>().empty()) {
    return std::nullopt;
  }
  return (*found)->get<std::string>();
}

// The account flags of Synapse's user objects (list entries and details):
// each may be absent (older releases lack `locked` and `suspended`), else a
// boolean or 0/1. True for the flags that are set.
model::Result<std::map<std::string, bool>> account_flags(const Answer& answer, const nlohmann::json& user,
                                                         const std::string& where) {
  std::map<std::string, bool> flags;
  for (const char* name : {"admin", "deactivated", "suspended", "locked"}) {
    auto found = answer.optional_field(user, where, name, JsonType::flag);
    if (!found) {
      return tl::unexpected(found.error());
    }
    flags[name] = *found && flag_value(**found);
  }
  return flags;
}

// One user of the admin API's list into the model.
model::Result<model::Account> listed_account(const Answer& answer, const nlohmann::json& user,
                                             const std::string& where, const model::Account& want) {
  model::Account have;
  have.key = want.key;
  have.user_id = want.user_id;
  have.localpart = want.localpart;
  auto display_name = profile_field(answer, user, where, "displayname");
  auto avatar_url = profile_field(answer, user, where, "avatar_url");
  auto flags = account_flags(answer, user, where);
  if (!display_name || !avatar_url || !flags) {
    return tl::unexpected(!display_name ? display_name.error() : !avatar_url ? avatar_url.error() : flags.error());
  }
  have.display_name = *display_name;
  have.avatar_url = *avatar_url;
  have.admin = (*flags)["admin"];
  bool inactive = (*flags)["deactivated"] || (*flags)["suspended"] || (*flags)["locked"];
  have.status = inactive ? model::AccountStatus::suspended : model::AccountStatus::active;
  have.linked_accounts = want.linked_accounts;
  return have;
}

// The `from` of the next page, from a page's `next_token` (Synapse's is a
// string of digits; media lists use an integer): nullopt on the last page.
model::Result<std::optional<std::string>> next_page(const Answer& answer, const nlohmann::json& page) {
  auto next = page.find("next_token");
  if (next == page.end() || next->is_null()) {
    return std::nullopt;
  }
  if (next->is_string() && !next->get_ref<const std::string&>().empty()) {
    return next->get<std::string>();
  }
  if (next->is_number_unsigned() || (next->is_number_integer() && next->get<std::int64_t>() >= 0)) {
    return std::to_string(next->get<std::int64_t>());
  }
  return tl::unexpected(answer.malformed("next_token is " + describe_value(*next) + ", expected a string"));
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
  std::set<std::string> pages_seen;
  while (true) {
    const std::string path = api::k_admin_v2 + "/users?deactivated=true&locked=true&limit=" +
                             std::to_string(k_user_page_size) + "&from=" + encode_path_segment(from);
    auto page = client.get(path);
    if (!page) {
      return failed(page.error(), "cannot list accounts");
    }
    // The shape Synapse's docs give: an empty or partial answer is not an
    // empty user list, which would make the plan create every account.
    Answer answer("GET", path, *page);
    auto users = answer.field(*page, "", "users", JsonType::array);
    if (!users) {
      return failed(users.error(), "cannot list accounts");
    }
    if (auto total = answer.field(*page, "", "total", JsonType::integer); !total) {
      return failed(total.error(), "cannot list accounts");
    }
    std::size_t index = 0;
    for (const nlohmann::json& user : **users) {
      const std::string where = "users[" + std::to_string(index++) + "]";
      auto name = answer.string(user, where, "name");
      if (!name) {
        return failed(name.error(), "cannot list accounts");
      }
      auto it = key_of_user.find(*name);
      if (it == key_of_user.end()) {
        continue;
      }
      auto have = listed_account(answer, user, where, desired.accounts.at(it->second));
      if (!have) {
        return failed(have.error(), "cannot list accounts");
      }
      out.accounts[have->key] = std::move(*have);
    }
    auto next = next_page(answer, *page);
    if (!next) {
      return failed(next.error(), "cannot list accounts");
    }
    if (!*next) {
      break;
    }
    // A server handing out the same page again would keep this going for ever.
    pages_seen.insert(from);
    if (pages_seen.count(**next)) {
      return failed(answer.malformed("next_token " + **next + " leads back to a page already read"),
                         "cannot list accounts");
    }
    from = **next;
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
    const std::string path = api::k_admin_v2 + "/users/" + encode_path_segment(have.user_id);
    auto user = client.get(path);
    if (!user) {
      return failed(user.error(), "cannot read the account of " + have.user_id);
    }
    auto details = read_account_details("GET", path, *user);
    if (!details) {
      return failed(details.error(), "cannot read the account of " + have.user_id);
    }
    if (details->suspended) {
      have.status = model::AccountStatus::suspended;
    }
    if (!settings.deactivate_accounts && !details->shows_suspension) {
      out.cannot_suspend = k_cannot_suspend;
    }
  }
  return {};
}

std::string profile_path(const std::string& user_id) { return api::k_client + "/profile/" + encode_path_segment(user_id); }

// GET /profile/{userId}: an object whose displayname and avatar_url are
// optional strings (the spec's schema).
model::Result<std::pair<std::optional<std::string>, std::optional<std::string>>> read_profile(
    const std::string& path, const nlohmann::json& body) {
  Answer answer("GET", path, body);
  if (auto object = answer.body(JsonType::object); !object) {
    return tl::unexpected(object.error());
  }
  auto display_name = profile_field(answer, body, "", "displayname");
  auto avatar_url = profile_field(answer, body, "", "avatar_url");
  if (!display_name || !avatar_url) {
    return tl::unexpected(!display_name ? display_name.error() : avatar_url.error());
  }
  return std::make_pair(*display_name, *avatar_url);
}

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
    auto read = read_profile(profile_path(want.user_id), *profile);
    if (!read) {
      return failed(read.error(), "cannot read the profile of account " + named(want));
    }
    model::Account have;
    have.key = key;
    have.user_id = want.user_id;
    have.localpart = want.localpart;
    have.display_name = read->first;
    have.avatar_url = read->second;
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
  auto result = client.put(api::k_admin_v2 + "/users/" + encode_path_segment(account.user_id), body);
  if (!result) {
    return failed(result.error(), std::string(creating ? "create" : "update") + " account " + named(account));
  }
  return {};
}

// Hints for the appservice registration errors operators actually meet.
std::string register_hint(const MatrixFailure& failure) {
  if (failure.error.errcode == "M_EXCLUSIVE") {
    return " (the account is outside the appservice's user namespace, or another appservice reserves it)";
  }
  if (failure.error.errcode == "M_UNKNOWN_TOKEN" || failure.error.errcode == "M_MISSING_TOKEN") {
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
    auto registered = client.post(api::k_client + "/register", body);
    if (!registered && registered.error().error.errcode != "M_USER_IN_USE") {
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
  auto profile = read_profile(profile_path(account.user_id), *current);
  if (!profile) {
    return failed(profile.error(), action + ": read its profile");
  }
  const std::tuple<const char*, const std::optional<std::string>*, const std::optional<std::string>*> fields[] = {
      {"displayname", &account.display_name, &profile->first}, {"avatar_url", &account.avatar_url, &profile->second}};
  for (const auto& [field, want, have] : fields) {
    if (!*want || *have == **want) {
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

model::Result<AccountDetails> read_account_details(const std::string& method, const std::string& path,
                                                  const nlohmann::json& body) {
  Answer answer(method, path, body);
  if (auto object = answer.body(JsonType::object); !object) {
    return tl::unexpected(object.error());
  }
  auto flags = account_flags(answer, body, "");
  if (!flags) {
    return tl::unexpected(flags.error());
  }
  AccountDetails details;
  details.suspended = (*flags)["suspended"] || (*flags)["locked"];
  details.deactivated = (*flags)["deactivated"];
  details.shows_suspension = body.contains("suspended") || body.contains("locked");
  return details;
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
