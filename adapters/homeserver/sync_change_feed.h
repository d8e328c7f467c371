#pragma once
// The change feed over the client API: a long-polling /sync that only asks
// which rooms moved (timeline limit 1, nothing else), on a client of its
// own so that a wait never holds up a pass's requests.

#include <chrono>
#include <string>

#include "adapters/change_feed.h"
#include "adapters/homeserver/matrix_client.h"
#include "adapters/homeserver/own_writes.h"

namespace adapters {

/// ChangeFeed over GET /sync?since=…&timeout=….
class SyncChangeFeed final : public ChangeFeed {
 public:
  /// `options` are the pass client's (TLS, answer sizes); the feed widens
  /// the read timeout and request deadline to outlast a wait of
  /// `longest_wait`, which no wait() may exceed.
  SyncChangeFeed(const std::string& base_url, std::string access_token, ClientOptions options,
                 std::chrono::milliseconds longest_wait);

  model::Result<ChangeNotice> wait(const std::string& position, std::chrono::milliseconds timeout) override;
  void cancel() override { m_client.cancel(); }
  /// From now on, events `own` holds wake no wait (see own_writes.h); it
  /// must outlive the feed. Only before the first wait.
  void ignore_own_writes(OwnWrites* own) { m_own = own; }

  /// Requests made so far.
  ClientStats stats() const { return m_client.stats(); }

 private:
  MatrixClient m_client;
  std::chrono::milliseconds m_longest_wait;
  OwnWrites* m_own = nullptr;
};

/// The rooms a /sync answer shows moving (joined rooms with timeline or
/// state events, rooms left) and its next_batch; an error naming the field
/// when the answer is not a /sync answer. Events `own` holds (mxctl's own
/// writes coming back) are taken out of it and move nothing.
model::Result<ChangeNotice> read_change_notice(const std::string& request, const nlohmann::json& answer,
                                               OwnWrites* own = nullptr);

}  // namespace adapters
