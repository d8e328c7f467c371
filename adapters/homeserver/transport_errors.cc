#include "adapters/homeserver/transport_errors.h"

// Only the verify codes (macros) are used: nothing here links against OpenSSL.
#include <openssl/x509_vfy.h>

namespace adapters {

namespace {

// "example.org" of "example.org:8448", "::1" of "[::1]:8448": what a
// certificate names.
std::string name_of(const std::string& host) {
  if (!host.empty() && host.front() == '[') {
    return host.substr(1, host.find(']') - 1);
  }
  return host.substr(0, host.find(':'));
}

}  // namespace

std::string describe_certificate_failure(long verify_result, const std::string& host) {
  const std::string certificate = "the TLS certificate of " + host;
  const std::string trust = " (caFile names the certificate authorities to trust)";
  switch (verify_result) {
    case X509_V_OK:
    case X509_V_ERR_HOSTNAME_MISMATCH:
      return certificate + " is for another host name (host name mismatch): it does not name " + name_of(host);
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return certificate + " has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return certificate + " is not valid yet (or this machine's clock is wrong)";
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return certificate + " is self-signed, by an unknown certificate authority" + trust;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return certificate + " is signed by an unknown certificate authority" + trust;
    case X509_V_ERR_CERT_REVOKED:
      return certificate + " has been revoked";
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
      return certificate + " is not trusted (a bad signature, or an authority that may not vouch for it)" + trust;
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_INVALID_PURPOSE:
      return certificate + " is not valid for a TLS server (wrong purpose, or issued by a certificate that is no "
                           "certificate authority)";
    default:
      return certificate + " failed verification (OpenSSL verify error " + std::to_string(verify_result) + ")";
  }
}

std::string duration_text(std::chrono::milliseconds duration) {
  const std::int64_t ms = duration.count();
  if (ms != 0 && ms % 3'600'000 == 0) {
    return std::to_string(ms / 3'600'000) + " h";
  }
  if (ms != 0 && ms % 60'000 == 0) {
    return std::to_string(ms / 60'000) + " min";
  }
  if (ms % 1000 == 0) {
    return std::to_string(ms / 1000) + " s";
  }
  return std::to_string(ms) + " ms";
}

std::string size_text(std::uint64_t bytes) {
  constexpr std::uint64_t k_mb = 1024 * 1024;
  if (bytes != 0 && bytes % k_mb == 0) {
    return std::to_string(bytes / k_mb) + " MB";
  }
  return std::to_string(bytes) + " bytes";
}

std::string host_of(const std::string& url) {
  std::size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  std::size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    authority.erase(0, at + 1);
  }
  return authority;
}

}  // namespace adapters
