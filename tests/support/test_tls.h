#pragma once
// A throw-away PKI for TLS tests, generated in-process at first use with the OpenSSL 3 API: EC
// P-256 keys, SHA-256 signatures, certificates valid from one hour ago for two days. Nothing is
// checked into the repository and nothing here is trusted outside the test process.

#include <filesystem>
#include <string>

namespace roundup::testing {

// A leaf certificate (serverAuth) and its private key, both PEM text.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

struct TestPki {
  TestPki();
  // Removes ca_file.
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  // The test CA: the only root a client built with use_system_store = false and
  // ca_file = this->ca_file trusts.
  std::string ca_cert_pem;
  // Signed by the test CA; SAN IP:127.0.0.1 and DNS:localhost.
  std::string server_cert_pem;
  std::string server_key_pem;
  // ca_cert_pem written to a file unique to this process.
  std::filesystem::path ca_file;

  // Negative-test material.
  // An unrelated CA, and a leaf it signed with the same names as the good server certificate:
  // a client trusting only the test CA must reject it.
  std::string wrong_ca_cert_pem;
  TestCertificate wrong_ca_server;
  // Signed by the test CA but for another name only (SAN DNS:example.invalid): a client that
  // connects to 127.0.0.1 or localhost must reject it.
  TestCertificate other_name_server;
};

// Generated once per process on first call; safe to call from several threads.
const TestPki& test_pki();

}  // namespace roundup::testing
