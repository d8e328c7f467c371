#pragma once
// The real-server suite's fixture: a real homeserver (started for the test,
// or an operator's), mxctl's bot on it, a copy of the example manifests made
// fit for it, a settings file and a state store, and the real mxctl binary
// run as a child process.
//
// The manifests copy leaves out the linked accounts on other homeservers (the
// test server has no federation). Against an operator's server every name
// the test makes carries the server's run suffix: the localparts, the alias
// prefix and the instance in the ownership markers.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/real_homeserver.h"
#include "tests/support/temp_dir.h"

namespace synapse_e2e {

using testing_support::ProcessResult;
using testing_support::RealHomeserver;

/// The ownership marker mxctl puts in every room it manages.
inline const std::string k_marker_type = "org.mxctl.managed";

/// How the test wants its server and mxctl set up.
struct FixtureOptions {
  testing_support::HomeserverNeeds needs;
  /// `provisioning: appservice`: the server loads a registration (so the
  /// test starts it), and mxctl acts with its as_token.
  bool appservice = false;
  /// With `appservice`: where the server calls mxctl. Set, the registration
  /// is the one mxctl writes (`mxctl appservice registration --url`) for
  /// the example, with the bot @mxctl-as; unset, the fixture's own, with
  /// `url: null`.
  std::string appservice_url;
};

/// The whole file, "" when it cannot be read.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// `digits` random lower-case hex digits.
inline std::string random_hex(int digits) {
  std::random_device random;
  std::string out;
  for (int i = 0; i < digits; ++i) {
    out += "0123456789abcdef"[random() % 16];
  }
  return out;
}

/// Splits a manifest file into its `---` documents, applies `change` to each
/// (which may return "" to drop it) and joins them again.
inline std::string rewrite_documents(const std::string& text,
                                     const std::function<std::string(const std::string&)>& change) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t next = text.find("\n---", start);
    std::string document = text.substr(start, next == std::string::npos ? std::string::npos : next - start);
    std::string changed = change(document);
    if (!changed.empty()) {
      out += changed + (next == std::string::npos ? "" : "\n");
    }
    if (next == std::string::npos) {
      break;
    }
    start = next + 1;
  }
  return out;
}

/// The document's metadata.name, "" when it has none.
inline std::string document_name(const std::string& document) {
  const std::string marker = "metadata:\n  name: ";
  auto at = document.find(marker);
  if (at == std::string::npos) {
    return "";
  }
  at += marker.size();
  return document.substr(at, document.find('\n', at) - at);
}

/// users.yaml fit for an isolated test server: no linked accounts, and with
/// a non-empty `suffix` every localpart made unique to the run.
inline std::string fit_users(const std::string& text, const std::string& suffix) {
  return rewrite_documents(text, [&](const std::string& document) {
    std::string out;
    std::size_t pos = 0;
    bool in_linked = false;
    while (pos < document.size()) {
      std::size_t end = document.find('\n', pos);
      std::string line = document.substr(pos, end == std::string::npos ? std::string::npos : end - pos + 1);
      pos = end == std::string::npos ? document.size() : end + 1;
      if (line.rfind("  linkedAccounts:", 0) == 0) {
        in_linked = true;
        continue;
      }
      if (in_linked && line.rfind("    - ", 0) == 0) {
        continue;
      }
      in_linked = false;
      out += line;
    }
    const std::string name = document_name(out);
    if (suffix.empty() || name.empty() || out.find("kind: User") == std::string::npos) {
      return out;
    }
    if (auto at = out.find("\n  localpart: "); at != std::string::npos) {
      auto end = out.find('\n', at + 1);
      return out.insert(end == std::string::npos ? out.size() : end, "-" + suffix);
    }
    if (auto at = out.find("\nspec:\n"); at != std::string::npos) {
      return out.insert(at + 7, "  localpart: " + name + "-" + suffix + "\n");
    }
    return out + (out.ends_with("\n") ? "" : "\n") + "spec:\n  localpart: " + name + "-" + suffix + "\n";
  });
}

/// `text` with regex metacharacters escaped (for an appservice namespace).
inline std::string regex_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) {
      out += "\\\\";  // a YAML double-quoted string, so the backslash itself is escaped
    }
    out += c;
  }
  return out;
}

class Fixture {
 public:
  /// A ready fixture, or nullptr when there is no server for the test (a
  /// WARN said why; the test then returns without failing).
  static std::unique_ptr<Fixture> create(FixtureOptions options = {}) {
    std::unique_ptr<Fixture> fx(new Fixture(options));
    if (options.appservice) {
      options.needs.own_server = true;
      options.needs.appservice_config_files = {fx->write_registration()};
    }
    fx->m_server = RealHomeserver::acquire(options.needs);
    if (!fx->m_server) {
      return nullptr;
    }
    fx->set_up();
    return fx;
  }

  RealHomeserver& server() const { return *m_server; }
  /// The manifests copy.
  std::string manifests() const { return (m_dir.path() / "manifests").string(); }
  /// The state store mxctl uses (MXCTL_STATE).
  std::string state() const { return (m_dir.path() / "mxctl.db").string(); }
  /// The settings file mxctl reads (--config).
  std::string config() const { return (m_dir.path() / "mxctl.yaml").string(); }
  /// A path in the fixture's temporary directory.
  std::string scratch(const std::string& name) const { return (m_dir.path() / name).string(); }
  /// The bot's user id and access token.
  const std::string& bot() const { return m_bot; }
  const std::string& bot_token() const { return m_bot_token; }
  bool appservice() const { return m_options.appservice; }

  /// The environment mxctl runs with: the server, the bot, the state store.
  std::map<std::string, std::string> env() const {
    std::map<std::string, std::string> vars = {{"MATRIX_HOMESERVER_URL", m_server->base_url()},
                                               {"MATRIX_SERVER_NAME", m_server->server_name()},
                                               {"MATRIX_BOT_USER_ID", m_bot},
                                               {"MATRIX_BOT_ACCESS_TOKEN", m_bot_token},
                                               {"MATRIX_BOT_ACCESS_TOKEN_FILE", ""},
                                               {"MXCTL_CONFIG", ""},
                                               {"MXCTL_FROM_DB", ""},
                                               {"MXCTL_STATE", state()}};
    if (m_options.appservice) {
      // The registration names the bot and holds its token.
      vars["MATRIX_BOT_USER_ID"] = "";
      vars["MATRIX_BOT_ACCESS_TOKEN"] = "";
    }
    return vars;
  }

  /// The argv of `mxctl --config FILE args...`.
  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> out = {MXCTL_BINARY, "--config", config()};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  /// Runs mxctl to completion.
  ProcessResult mxctl(const std::vector<std::string>& args) const {
    return testing_support::run_process(argv(args), env());
  }

  /// Runs `mxctl apply --yes` on the manifests copy (plus `extra`) and
  /// REQUIREs success; returns the run.
  ProcessResult apply(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"apply", manifests(), "--yes"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto result = mxctl(args);
    INFO("mxctl apply:\n" << result.out << result.err);
    REQUIRE(result.exit_code == 0);
    return result;
  }

  /// `mxctl plan --detailed-exitcode` (plus `extra`): 0 when converged.
  ProcessResult plan(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"plan", manifests(), "--detailed-exitcode"};
    args.insert(args.end(), extra.begin(), extra.end());
    return mxctl(args);
  }

  /// Rewrites the settings file: the fixture's own keys plus `extra` (YAML lines).
  void set_config(const std::string& extra) const {
    std::ofstream(config(), std::ios::trunc) << base_config() << extra;
  }

  /// Replaces the first occurrence of `from` with `to` in a manifest file.
  void edit(const std::string& file, const std::string& from, const std::string& to) const {
    const std::string path = manifests() + "/" + file;
    std::string text = read_text(path);
    auto pos = text.find(from);
    INFO("editing " << file << ": " << from);
    REQUIRE(pos != std::string::npos);
    text.replace(pos, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
  }

  /// Writes (or replaces) a manifest file.
  void write_manifest(const std::string& file, const std::string& text) const {
    std::ofstream(manifests() + "/" + file, std::ios::trunc) << text;
  }

  /// Adds `field` (a "key: value" line) to the spec of user `key` in users.yaml.
  void set_user_field(const std::string& key, const std::string& field) const {
    const std::string path = manifests() + "/users.yaml";
    bool found = false;
    std::string text = rewrite_documents(read_text(path), [&](std::string document) {
      if (document_name(document) != key || document.find("kind: User") == std::string::npos) {
        return document;
      }
      found = true;
      if (auto at = document.find("\nspec:\n"); at != std::string::npos) {
        return document.insert(at + 7, "  " + field + "\n");
      }
      return document + (document.ends_with("\n") ? "" : "\n") + "spec:\n  " + field + "\n";
    });
    REQUIRE(found);
    std::ofstream(path, std::ios::trunc) << text;
  }

  /// Drops from a manifest file every document whose metadata.name is `name`.
  void drop_document(const std::string& file, const std::string& name) const {
    const std::string path = manifests() + "/" + file;
    bool dropped = false;
    std::string text = rewrite_documents(read_text(path), [&](const std::string& document) {
      if (document_name(document) == name) {
        dropped = true;
        return std::string();
      }
      return document;
    });
    REQUIRE(dropped);
    std::ofstream(path, std::ios::trunc) << text;
  }

  /// Puts the manifests copy back to the example (fit for this server).
  void reset_manifests() const {
    std::filesystem::remove_all(manifests());
    std::filesystem::copy(std::string(MXCTL_SOURCE_DIR) + "/manifests", manifests(),
                          std::filesystem::copy_options::recursive);
    const std::string users = manifests() + "/users.yaml";
    const std::string fitted = fit_users(read_text(users), m_server->run_suffix());
    std::ofstream(users, std::ios::trunc) << fitted;
  }

  /// `mxctl desired -o json` of the manifests copy.
  nlohmann::json desired() const {
    auto result = mxctl({"desired", manifests(), "-o", "json"});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out);
  }

  /// The example's desired state as it was when the fixture was made.
  const nlohmann::json& example() const { return m_example; }
  /// The user id of the user with manifest key `key`.
  std::string user_id(const std::string& key) const { return m_example.at("accounts").at(key).at("user_id"); }
  /// The alias of the room with key `key` (say "community/harbor").
  std::string alias(const std::string& key) const { return m_example.at("rooms").at(key).at("alias"); }
  /// The room `key`'s alias names on the server now; REQUIREs that it names one.
  std::string room_id(const std::string& key) const {
    auto room = m_server->room_of_alias(alias(key));
    INFO("no room for " << key << " (" << alias(key) << ")");
    REQUIRE(room);
    return *room;
  }
  /// The current state of room `key` on the server.
  std::map<std::string, nlohmann::json> room_state(const std::string& key) const {
    return m_server->room_state(room_id(key));
  }
  /// The instance written in this fixture's ownership markers.
  std::string instance() const { return m_server->run_suffix().empty() ? "default" : m_server->run_suffix(); }

 private:
  explicit Fixture(FixtureOptions options) : m_options(std::move(options)) {}

  std::string base_config() const {
    std::string text = "homeserverUrl: " + m_server->base_url() + "\nserverName: " + m_server->server_name() + "\n";
    if (!m_server->run_suffix().empty()) {
      text += "aliasPrefix: mxctl." + m_server->run_suffix() + ".\ninstance: " + m_server->run_suffix() + "\n";
    }
    if (m_options.appservice) {
      text += "provisioning: appservice\nappserviceRegistration: " + scratch("registration.yaml") + "\n";
    }
    return text;
  }

  // The registration is written before the server exists: it starts with it.
  std::string write_registration() {
    m_as_token = "as-" + random_hex(24);
    const std::string server_name = "localhost";  // a self-started server: appservice tests need one
    if (!m_options.appservice_url.empty()) {
      return write_mxctl_registration(server_name);
    }
    return m_dir.write("registration.yaml",
                       "id: mxctl-e2e\nurl: null\nas_token: " + m_as_token + "\nhs_token: hs-" + random_hex(24) +
                           "\nsender_localpart: mxctl-as\nrate_limited: false\nnamespaces:\n  users:\n"
                           "    - exclusive: true\n      regex: \"@(?!admin:|mxctl-as:).*:" +
                           regex_escape(server_name) +
                           "\"\n  aliases:\n    - exclusive: false\n      regex: \"#mxctl\\\\..*:" +
                           regex_escape(server_name) + "\"\n  rooms: []\n");
  }

  // The registration `mxctl appservice registration` writes for the
  // example, pointing at appservice_url; m_as_token is read back from it.
  std::string write_mxctl_registration(const std::string& server_name) {
    const std::string path = scratch("registration.yaml");
    auto written = testing_support::run_process(
        {MXCTL_BINARY, "appservice", "registration", std::string(MXCTL_SOURCE_DIR) + "/manifests", "--url",
         m_options.appservice_url, "--out", path},
        {{"MATRIX_HOMESERVER_URL", ""}, {"MATRIX_SERVER_NAME", server_name},
         {"MATRIX_BOT_USER_ID", "@mxctl-as:" + server_name}, {"MATRIX_BOT_ACCESS_TOKEN", ""}, {"MXCTL_CONFIG", ""}});
    INFO(written.out << written.err);
    REQUIRE(written.exit_code == 0);
    const std::string text = read_text(path);
    const std::string key = "as_token: \"";
    const auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    const auto from = at + key.size();
    m_as_token = text.substr(from, text.find('"', from) - from);
    return path;
  }

  void set_up() {
    if (m_options.appservice) {
      m_bot = m_server->user_id("mxctl-as");
      m_bot_token = m_as_token;
    } else {
      const std::string suffix = m_server->run_suffix();
      m_bot = m_server->make_server_admin("mxctl-e2e" + (suffix.empty() ? "" : "-" + suffix), "pw-" + random_hex(16));
      m_bot_token = m_server->login_as(m_bot);
    }
    set_config("");
    reset_manifests();
    m_example = desired();
  }

  testing_support::TempDir m_dir;
  FixtureOptions m_options;
  std::unique_ptr<RealHomeserver> m_server;
  std::string m_bot;
  std::string m_bot_token;
  std::string m_as_token;
  nlohmann::json m_example;
};

/// Output and error of a run, for INFO.
inline std::string shown(const ProcessResult& result) { return result.out + result.err; }

}  // namespace synapse_e2e
