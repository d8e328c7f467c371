// HttpHomeserver: listing a coordination DM in its participants' m.direct.
// Account data belongs to the user, so writing it means acting as them: by
// masquerading (appservice) or with a short-lived admin login-as-user token
// (Synapse), which it logs out again at once. Reading it on Synapse goes
// through the admin API instead, so a plan never logs in as anyone.

#include <chrono>

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/http_homeserver.h"

namespace adapters {

namespace {

// The other people in the DM as `user` sees them: every member except the
// bot, the user and the user's own linked accounts.
std::vector<std::string> others_of(const model::Room& room, const std::string& user, const model::MatrixState& desired,
                                   const std::string& bot) {
  std::set<std::string> self = {user, bot};
  for (const auto& [key, account] : desired.accounts) {
    if (account.user_id == user) {
      self.insert(account.linked_accounts.begin(), account.linked_accounts.end());
    }
  }
  std::vector<std::string> others;
  for (const std::string& member : room.members) {
    if (!self.count(member)) {
      others.push_back(member);
    }
  }
  return others;
}

// Requests on a user's behalf. Synapse: a five-minute login-as-user token on
// its own client, logged out (and its requests counted on the bot's client)
// when the session ends. Appservice: the bot's client with ?user_id=.
class UserSession {
 public:
  UserSession(MatrixClient& bot, const model::Settings& settings, std::string user_id)
      : m_bot(bot), m_settings(settings), m_user_id(std::move(user_id)) {}

  ~UserSession() {
    if (m_own) {
      // The token was only for this. Logging out is retried like any
      // write; if it still fails the token merely expires in five minutes.
      ClientStats retried;
      for (int attempt = 1; attempt <= 3; ++attempt) {
        auto done = m_own->post(api::k_client + "/logout", nlohmann::json::object());
        if (done || !done.error().error.retryable() || attempt == 3) {
          break;
        }
        retried.retries += 1;
      }
      m_bot.absorb(m_own->stats());
      m_bot.absorb(retried);
    }
  }

  model::Result<void> open(const std::string& action) {
    if (m_settings.provisioning == model::ProvisioningMode::appservice) {
      m_query = "?user_id=" + encode_path_segment(m_user_id);
      return {};
    }
    auto until = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch() + std::chrono::minutes(5))
                     .count();
    const std::string path = api::k_admin_v1 + "/users/" + encode_path_segment(m_user_id) + "/login";
    auto login = m_bot.post(path, {{"valid_until_ms", until}});
    if (!login) {
      return failed(login.error(), action + " (logging in as " + m_user_id + ")");
    }
    // Without a token the requests "as the user" would go out as nobody.
    auto token = Answer("POST", path, *login).string(*login, "", "access_token");
    if (!token || token->empty()) {
      return failed(token ? Answer("POST", path, *login).malformed("access_token is empty") : token.error(),
                    action + " (logging in as " + m_user_id + ")");
    }
    m_own = std::make_unique<MatrixClient>(m_settings.homeserver_url, *token, m_bot.options());
    return {};
  }

  /// The user's m.direct content ({} when they have none; the spec's
  /// answer is the content, an object).
  model::Result<nlohmann::json> read_direct(const std::string& action) {
    auto current = client().get(direct_path());
    if (current) {
      if (auto content = Answer("GET", direct_path(), *current).body(JsonType::object); !content) {
        return failed(content.error(), action);
      }
      return *current;
    }
    if (current.error().error.kind == model::Error::Kind::not_found) {
      return nlohmann::json::object();
    }
    return failed(current.error(), action);
  }

  model::Result<void> write_direct(const nlohmann::json& content, const std::string& action) {
    auto written = client().put(direct_path(), content);
    if (!written) {
      return failed(written.error(), action);
    }
    return {};
  }

 private:
  MatrixClient& client() { return m_own ? *m_own : m_bot; }
  std::string direct_path() const {
    return api::k_client + "/user/" + encode_path_segment(m_user_id) + "/account_data/m.direct" + m_query;
  }

  MatrixClient& m_bot;
  const model::Settings& m_settings;
  std::string m_user_id;
  std::string m_query;
  std::unique_ptr<MatrixClient> m_own;
};

// Adds `room_id` under every other participant; true if anything was added.
bool list_room(nlohmann::json& direct, const std::vector<std::string>& others, const std::string& room_id) {
  bool changed = false;
  for (const std::string& other : others) {
    nlohmann::json& rooms = direct[other];
    if (!rooms.is_array()) {
      rooms = nlohmann::json::array();
    }
    if (std::find(rooms.begin(), rooms.end(), room_id) == rooms.end()) {
      rooms.push_back(room_id);
      changed = true;
    }
  }
  return changed;
}

}  // namespace

model::Result<OperationOutcome> HttpHomeserver::set_direct(const model::Operation& operation, const model::Room& room,
                                                           const ExecutionContext& context) {
  const std::string action = model::describe(operation);
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, action + ": room id unknown");
  }
  UserSession session(m_client, m_settings, operation.user_id);
  if (auto opened = session.open(action); !opened) {
    return tl::unexpected(opened.error());
  }
  auto direct = session.read_direct(action);
  if (!direct) {
    return tl::unexpected(direct.error());
  }
  // Read-modify-write of the whole event: the user's other DMs stay listed.
  if (!list_room(*direct, others_of(room, operation.user_id, *context.desired, m_settings.bot_user_id),
                 room_id->second)) {
    return OperationOutcome{std::nullopt, true};
  }
  if (auto written = session.write_direct(*direct, action); !written) {
    return tl::unexpected(written.error());
  }
  return OperationOutcome{};
}

model::Result<bool> HttpHomeserver::direct_is_set(const model::Room& room, const std::string& room_id,
                                                  const std::string& user_id, const model::MatrixState& desired) {
  const std::string action = "read m.direct of " + user_id + " for " + room.key;
  const std::vector<std::string> others = others_of(room, user_id, desired, m_settings.bot_user_id);
  if (m_settings.provisioning == model::ProvisioningMode::synapse_admin) {
    // The admin API reads account data without acting as the user: logging
    // in would create a device and a token on the server, from a reader.
    const std::string path = api::k_admin_v1 + "/users/" + encode_path_segment(user_id) + "/accountdata";
    auto data = m_client.get(path);
    if (data) {
      // {account_data: {global: {type: content}, rooms: {...}}}; a missing
      // m.direct is "none yet", a missing `global` a broken answer.
      Answer answer("GET", path, *data);
      auto all = answer.field(*data, "", "account_data", JsonType::object);
      auto global = all ? answer.field(**all, "account_data", "global", JsonType::object) : all;
      auto found = global ? answer.optional_field(**global, "account_data.global", "m.direct", JsonType::object) : global;
      if (!found) {
        return failed(found.error(), action);
      }
      nlohmann::json direct = *found ? **found : nlohmann::json::object();
      return !list_room(direct, others, room_id);
    }
    bool missing_api = data.error().status == 404 && data.error().error.errcode != "M_NOT_FOUND";
    if (!missing_api && data.error().error.errcode != "M_UNRECOGNIZED") {
      return failed(data.error(), action);
    }
    // A server without that API: only a pass that may write logs in as the
    // user; a reader leaves the entry to apply, which checks before writing.
    if (m_client.read_only()) {
      return false;
    }
  }
  UserSession session(m_client, m_settings, user_id);
  if (auto opened = session.open(action); !opened) {
    return tl::unexpected(opened.error());
  }
  auto direct = session.read_direct(action);
  if (!direct) {
    return tl::unexpected(direct.error());
  }
  return !list_room(*direct, others, room_id);
}

}  // namespace adapters
