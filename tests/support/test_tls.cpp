#include "tests/support/test_tls.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace roundup::testing {

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct ExtensionFree {
  void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Extension = std::unique_ptr<X509_EXTENSION, ExtensionFree>;

// Test set-up failures are programming or environment errors: throw with OpenSSL's reason.
void check(bool ok, const char* what) {
  if (ok) return;
  const unsigned long code = ERR_get_error();
  char reason[256] = "no OpenSSL error queued";
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error(std::string("test PKI: ") + what + " failed: " + reason);
}

Key new_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen(P-256)");
  return key;
}

void set_common_name(X509_NAME* name, const std::string& common_name) {
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Roundup tests"), -1,
                                   -1, 0) == 1,
        "X509_NAME_add_entry_by_txt(O)");
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0) == 1,
        "X509_NAME_add_entry_by_txt(CN)");
}

void add_extension(X509* cert, X509V3_CTX& context, int nid, const char* value) {
  Extension extension(X509V3_EXT_nconf_nid(nullptr, &context, nid, value));
  check(extension != nullptr, "X509V3_EXT_nconf_nid");
  check(X509_add_ext(cert, extension.get(), -1) == 1, "X509_add_ext");
}

// A certificate for `subject_key`, signed by `issuer_key`. `issuer` is null for a self-signed CA.
// `subject_alt_names` is empty for a CA.
Cert new_certificate(const std::string& common_name, EVP_PKEY* subject_key, const X509* issuer, EVP_PKEY* issuer_key,
                     const char* subject_alt_names) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");

  // Random 128-bit serial: browsers and OpenSSL dislike duplicate issuer+serial pairs, and every
  // run makes new certificates.
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), BN_free);
  check(serial != nullptr && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1, "BN_rand");
  check(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) != nullptr, "BN_to_ASN1_INTEGER");

  // Back-dated by an hour so a clock a little behind does not make the certificate not yet valid.
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60L * 60) != nullptr, "X509_gmtime_adj(notBefore)");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), 2L * 24 * 60 * 60) != nullptr, "X509_gmtime_adj(notAfter)");

  set_common_name(X509_get_subject_name(cert.get()), common_name);
  const bool self_signed = issuer == nullptr;
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(self_signed ? cert.get() : issuer)) == 1,
        "X509_set_issuer_name");
  check(X509_set_pubkey(cert.get(), subject_key) == 1, "X509_set_pubkey");

  X509V3_CTX context;
  X509V3_set_ctx(&context, self_signed ? cert.get() : const_cast<X509*>(issuer), cert.get(), nullptr, nullptr, 0);
  add_extension(cert.get(), context, NID_subject_key_identifier, "hash");
  add_extension(cert.get(), context, NID_authority_key_identifier, "keyid:always");
  if (self_signed) {
    add_extension(cert.get(), context, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert.get(), context, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert.get(), context, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), context, NID_key_usage, "critical,digitalSignature");
    add_extension(cert.get(), context, NID_ext_key_usage, "serverAuth");
    add_extension(cert.get(), context, NID_subject_alt_name, subject_alt_names);
  }

  check(X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  check(size > 0 && data != nullptr, "BIO_get_mem_data");
  return std::string(data, static_cast<std::size_t>(size));
}

std::string cert_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_X509(bio.get(), cert) == 1, "PEM_write_bio_X509");
  return drain(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  check(bio != nullptr && PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  return drain(bio.get());
}

struct Authority {
  Key key;
  Cert cert;
};

Authority new_authority(const std::string& common_name) {
  Authority authority{new_key(), nullptr};
  authority.cert = new_certificate(common_name, authority.key.get(), nullptr, authority.key.get(), nullptr);
  return authority;
}

TestCertificate new_leaf(const Authority& authority, const std::string& common_name, const char* subject_alt_names) {
  const Key key = new_key();
  const Cert cert =
      new_certificate(common_name, key.get(), authority.cert.get(), authority.key.get(), subject_alt_names);
  return {cert_pem(cert.get()), key_pem(key.get())};
}

}  // namespace

TestPki::TestPki() {
  const Authority authority = new_authority("Roundup test CA");
  ca_cert_pem = cert_pem(authority.cert.get());
  auto server = new_leaf(authority, "127.0.0.1", "IP:127.0.0.1,DNS:localhost");
  server_cert_pem = std::move(server.cert_pem);
  server_key_pem = std::move(server.key_pem);
  other_name_server = new_leaf(authority, "example.invalid", "DNS:example.invalid");

  const Authority unrelated = new_authority("Roundup unrelated test CA");
  wrong_ca_cert_pem = cert_pem(unrelated.cert.get());
  wrong_ca_server = new_leaf(unrelated, "127.0.0.1", "IP:127.0.0.1,DNS:localhost");

  ca_file = std::filesystem::temp_directory_path() / ("roundup-test-ca-" + std::to_string(::getpid()) + ".pem");
  std::ofstream out(ca_file, std::ios::binary | std::ios::trunc);
  out << ca_cert_pem;
  out.close();
  if (!out) throw std::runtime_error("test PKI: cannot write " + ca_file.string());
}

TestPki::~TestPki() {
  std::error_code ec;
  std::filesystem::remove(ca_file, ec);
}

const TestPki& test_pki() {
  static const TestPki pki;
  return pki;
}

}  // namespace roundup::testing
