#pragma once
// SHA-256 and HMAC-SHA-256 (OpenSSL's libcrypto), for the digests the store
// keeps things under: never a secret itself, and the same bytes always give
// the same text.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace adapters {

/// A SHA-256 over bytes given in parts.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  /// Adds `bytes` to what is digested.
  void update(std::string_view bytes);
  /// The digest of everything added, as 64 lower-case hex digits; the
  /// object is spent afterwards.
  std::string hex();

 private:
  struct Context;
  std::unique_ptr<Context> m_context;
};

/// `bytes` as lower-case hex digits, two for each byte.
std::string lower_hex(std::string_view bytes);

/// The bytes `hex` spells (digits of either case, two per byte); nothing
/// for text that is not hex, so damaged text never reads as other bytes.
std::optional<std::string> bytes_from_hex(std::string_view hex);

/// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

/// HMAC-SHA-256 of `message` under `key`, as 64 lower-case hex digits: a
/// digest no one can make without the key.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);

/// Whether two digests are the same, in time that does not depend on where
/// they differ (so comparing a MAC tells nothing about the right one).
bool same_digest(std::string_view a, std::string_view b);

}  // namespace adapters
