#pragma once
// The provisioning bundle an admin hands to a person's first device: the
// homeserver, the account, its password and its private sync room, as
// JSON in URL-safe base64 without padding (one string, fit for a QR code).
// The device logs in with the password and rotates it at once.

#include <cstddef>
#include <string>

#include "model/result.h"

namespace adapters {

/// What a bundle carries (version 1).
struct ProvisioningBundle {
  std::string homeserver;  ///< the homeserver's base URL
  std::string user;        ///< full user id, "@alice:example.org"
  std::string password;
  std::string room_id;
};

/// `{"v":1,"homeServer":…,"user":…,"password":…,"roomId":…}` as URL-safe
/// base64 without padding.
std::string encode_bundle(const ProvisioningBundle& bundle);

/// Reads a bundle back; an error saying what is wrong (not base64, not a
/// JSON object, another version, a field missing or not a string).
model::Result<ProvisioningBundle> decode_bundle(const std::string& text);

/// `bytes` bytes from the kernel's cryptographically secure generator,
/// as URL-safe base64 without padding (32 bytes: 43 characters).
model::Result<std::string> random_secret(std::size_t bytes = 32);

}  // namespace adapters
