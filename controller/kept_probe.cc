#include "controller/kept_probe.h"

#include "adapters/homeserver/capabilities_json.h"

namespace controller {

model::Result<void> probe_or_recall(adapters::HttpHomeserver& homeserver, adapters::ObservationCache& store,
                                    const model::Settings& settings, const std::string& access_token,
                                    std::int64_t now_ms, std::chrono::minutes lifetime) {
  const std::string key = adapters::probe_key(settings, access_token);
  auto kept = store.kept_probe();
  if (!kept) {
    return tl::unexpected(kept.error());
  }
  const std::int64_t lifetime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(lifetime).count();
  // A probe from the future (a clock set back) is as stale as an old one.
  if (*kept && (*kept)->key == key && (*kept)->taken_at_ms <= now_ms && now_ms - (*kept)->taken_at_ms < lifetime_ms) {
    if (auto caps = adapters::capabilities_from_json((*kept)->answer)) {
      homeserver.assume(std::move(*caps));
      return {};
    }
  }
  auto caps = homeserver.probe();
  if (!caps) {
    return tl::unexpected(caps.error());
  }
  (void)store.keep_probe({key, adapters::capabilities_json(*caps), now_ms});
  return {};
}

}  // namespace controller
