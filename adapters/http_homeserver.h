#pragma once
// HomeserverPort over HTTP: the Matrix client-server API v3 for rooms, and
// Synapse's admin API for accounts. Capabilities are probed, not assumed.

#include <memory>
#include <string>

#include "adapters/homeserver_port.h"
#include "adapters/matrix_client.h"
#include "model/settings.h"

namespace adapters {

/// What the homeserver turned out to be.
struct Capabilities {
  /// The bot's own id as the server knows it (whoami).
  std::string user_id;
  /// "Synapse 1.120.0" when the Synapse admin API answered; empty otherwise.
  std::string synapse_version;
  /// The bot may use the Synapse admin API.
  bool server_admin = false;
  /// Client-server spec versions the server advertises.
  std::vector<std::string> versions;
};

/// The real homeserver.
class HttpHomeserver : public HomeserverPort {
 public:
  HttpHomeserver(model::Settings settings, std::string access_token, ClientOptions options = {});

  /// Who we are and what the server offers. Fails (forbidden) when the token
  /// is rejected or belongs to another user than settings.bot_user_id, and
  /// when synapse-admin provisioning is configured but unavailable.
  model::Result<Capabilities> probe();

  model::Result<Observation> observe(const model::MatrixState& desired, const ObserveHints& hints) override;
  model::Result<OperationOutcome> execute(const model::Operation& operation,
                                          const ExecutionContext& context) override;

  /// Requests made so far.
  ClientStats stats() const { return m_client.stats(); }

 private:
  model::Result<void> observe_accounts(const model::MatrixState& desired, model::ObservedState& out);
  model::Result<void> observe_rooms(const model::MatrixState& desired, const ObserveHints& hints, Observation& out);
  model::Result<bool> message_was_sent(const std::string& room_id, const model::OnceMessage& message);
  model::Result<OperationOutcome> create_room(const model::Room& room, const ExecutionContext& context);
  model::Result<OperationOutcome> adopt_existing(const model::Room& room);
  model::Result<OperationOutcome> put_account(const model::Account& account, bool creating);
  model::Result<OperationOutcome> membership(const model::Operation& operation, const ExecutionContext& context);

  model::Settings m_settings;
  MatrixClient m_client;
};

}  // namespace adapters
