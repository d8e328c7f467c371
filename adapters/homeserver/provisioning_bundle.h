#pragma once
// The provisioning bundle an admin hands to a person's first device: the
// homeserver, the account, its credential and its private sync room, as
// JSON in URL-safe base64 without padding (one string, fit for a QR code).
// Version 1 carries a password, which the device logs in with and rotates
// at once; version 2 (appservice mode, where the account has no password)
// carries an access token of a device minted for it instead.

#include <cstddef>
#include <string>

#include "model/result.h"

namespace adapters {

/// What a bundle carries: a password (version 1) or an access token and
/// its device (version 2), never both.
struct ProvisioningBundle {
  std::string homeserver;  ///< the homeserver's base URL
  std::string user;        ///< full user id, "@alice:example.org"
  std::string password;    ///< version 1
  std::string room_id;
  std::string access_token{};  ///< version 2
  std::string device_id{};     ///< version 2: the device the token belongs to
};

/// `{"v":1,"homeServer":…,"user":…,"password":…,"roomId":…}`, or, when
/// `bundle.access_token` is set, `{"v":2,"homeServer":…,"user":…,
/// "accessToken":…,"deviceId":…,"roomId":…}`, as URL-safe base64 without
/// padding.
std::string encode_bundle(const ProvisioningBundle& bundle);

/// Reads a bundle of either version back; an error saying what is wrong
/// (not base64, not a JSON object, an unknown version, a field missing or
/// not a string).
model::Result<ProvisioningBundle> decode_bundle(const std::string& text);

/// `bytes` bytes from the kernel's cryptographically secure generator,
/// as URL-safe base64 without padding (32 bytes: 43 characters).
model::Result<std::string> random_secret(std::size_t bytes = 32);

}  // namespace adapters
