#pragma once
// Certificates for TLS tests, made with the openssl command in a temporary
// directory: a test certificate authority and server certificates signed by
// it that are good for 127.0.0.1, for another host name, or expired, plus a
// self-signed one no authority vouches for.

#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace testing_support {

/// A certificate and its key, as PEM files.
struct CertificateFiles {
  std::string certificate;
  std::string key;
};

/// The certificates, in a temporary directory removed with the object.
class TlsCertificates {
 public:
  /// Makes every certificate below; throws std::runtime_error when openssl
  /// fails (its output in the message).
  TlsCertificates();

  /// The test authority's certificate: what a client's caFile names.
  const std::string& ca_file() const { return m_ca_file; }
  /// Signed by the authority, for IP 127.0.0.1 and DNS localhost.
  const CertificateFiles& good() const { return m_good; }
  /// Signed by the authority, for DNS other.example only.
  const CertificateFiles& other_host() const { return m_other_host; }
  /// Signed by the authority, for 127.0.0.1, expired since yesterday.
  const CertificateFiles& expired() const { return m_expired; }
  /// Self-signed, for 127.0.0.1: no authority vouches for it.
  const CertificateFiles& self_signed() const { return m_self_signed; }

 private:
  CertificateFiles sign(const std::string& name, const std::string& subject_alt_names, int days);
  void openssl(const std::vector<std::string>& args);

  TempDir m_dir;
  std::string m_ca_file;
  std::string m_ca_key;
  CertificateFiles m_good;
  CertificateFiles m_other_host;
  CertificateFiles m_expired;
  CertificateFiles m_self_signed;
};

}  // namespace testing_support
