#pragma once
// A throw-away PKI for TLS tests, generated in-process at first use with the OpenSSL 3 API: EC
// P-256 keys, SHA-256 signatures, certificates valid from one hour ago for two days. Nothing is
// checked into the repository and nothing here is trusted outside the test process.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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

// A minimal HTTPS peer on 127.0.0.1 for checking what a TLS client puts in its ClientHello. It
// serves test_pki()'s server certificate (127.0.0.1 and localhost), records the SNI server name
// of every ClientHello, and answers the first request on each connection with 200 "ok" and
// Connection: close. One connection at a time, on its own thread.
class SniRecorder {
 public:
  SniRecorder();
  // Stops accepting and joins the thread.
  ~SniRecorder();
  SniRecorder(const SniRecorder&) = delete;
  SniRecorder& operator=(const SniRecorder&) = delete;

  unsigned short port() const;
  // One entry per ClientHello received, in order: the SNI host name, or "" when the client sent
  // none. Recorded before the handshake completes, so a client whose request got an answer has
  // its entry here already.
  std::vector<std::string> server_names() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roundup::testing
