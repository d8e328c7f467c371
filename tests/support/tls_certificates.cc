#include "tests/support/tls_certificates.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "tests/support/process.h"

namespace testing_support {

namespace {

// The openssl program on PATH (run_process does not search it).
std::string openssl_program() {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (std::size_t start = 0; start <= dirs.size();) {
    std::size_t end = dirs.find(':', start);
    if (end == std::string::npos) {
      end = dirs.size();
    }
    std::filesystem::path candidate = std::filesystem::path(dirs.substr(start, end - start)) / "openssl";
    if (std::filesystem::exists(candidate)) {
      return candidate.string();
    }
    start = end + 1;
  }
  throw std::runtime_error("the TLS tests need the openssl command, which is not on PATH");
}

// P-256 keys: made in milliseconds, unlike RSA ones.
const std::vector<std::string> k_new_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};

}  // namespace

TlsCertificates::TlsCertificates() {
  const std::string dir = m_dir.path().string() + "/";
  m_ca_file = dir + "ca.pem";
  m_ca_key = dir + "ca.key";
  std::vector<std::string> ca = {"req", "-x509"};
  ca.insert(ca.end(), k_new_key.begin(), k_new_key.end());
  ca.insert(ca.end(), {"-keyout", m_ca_key, "-out", m_ca_file, "-days", "2", "-subj", "/CN=mxctl test CA"});
  openssl(ca);
  m_good = sign("good", "IP:127.0.0.1,DNS:localhost", 2);
  m_other_host = sign("other", "DNS:other.example", 2);
  // -days -1: valid until a day before it was made.
  m_expired = sign("expired", "IP:127.0.0.1,DNS:localhost", -1);
  m_self_signed = {dir + "self.pem", dir + "self.key"};
  std::vector<std::string> self = {"req", "-x509"};
  self.insert(self.end(), k_new_key.begin(), k_new_key.end());
  self.insert(self.end(), {"-keyout", m_self_signed.key, "-out", m_self_signed.certificate, "-days", "2", "-subj",
                           "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  openssl(self);
}

CertificateFiles TlsCertificates::sign(const std::string& name, const std::string& subject_alt_names, int days) {
  const std::string dir = m_dir.path().string() + "/";
  CertificateFiles files{dir + name + ".pem", dir + name + ".key"};
  const std::string request = dir + name + ".csr";
  std::vector<std::string> req = {"req"};
  req.insert(req.end(), k_new_key.begin(), k_new_key.end());
  req.insert(req.end(), {"-keyout", files.key, "-out", request, "-subj", "/CN=" + name});
  openssl(req);
  const std::string extensions = m_dir.write(name + ".ext", "subjectAltName=" + subject_alt_names + "\n");
  openssl({"x509", "-req", "-in", request, "-CA", m_ca_file, "-CAkey", m_ca_key, "-CAcreateserial", "-out",
           files.certificate, "-days", std::to_string(days), "-extfile", extensions});
  return files;
}

void TlsCertificates::openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {openssl_program()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult result = run_process(argv, {}, m_dir.path().string());
  if (result.exit_code != 0) {
    throw std::runtime_error("openssl " + args[0] + " failed: " + result.err);
  }
}

}  // namespace testing_support
