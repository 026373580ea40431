#include "tests/support/test_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

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

struct SniRecorder::Impl {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context{nullptr, SSL_CTX_free};
  int listener = -1;
  unsigned short port = 0;
  mutable std::mutex mutex;
  std::vector<std::string> names;
  std::thread thread;

  // OpenSSL calls this for every ClientHello, with or without the server_name extension.
  static int on_server_name(SSL* ssl, int* /*alert*/, void* arg) {
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    auto* self = static_cast<Impl*>(arg);
    std::lock_guard lock(self->mutex);
    self->names.emplace_back(name != nullptr ? name : "");
    return SSL_TLSEXT_ERR_OK;
  }

  void serve(int fd) const {
    // Only keeps a client bug from hanging the test.
    timeval timeout{20, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(context.get()), SSL_free);
    if (ssl != nullptr && SSL_set_fd(ssl.get(), fd) == 1 && SSL_accept(ssl.get()) == 1) {
      std::string head;
      char chunk[4096];
      int n = 0;
      while (head.find("\r\n\r\n") == std::string::npos &&
             (n = SSL_read(ssl.get(), chunk, static_cast<int>(sizeof chunk))) > 0) {
        head.append(chunk, static_cast<std::size_t>(n));
      }
      constexpr std::string_view reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
      if (n > 0 && SSL_write(ssl.get(), reply.data(), static_cast<int>(reply.size())) > 0) SSL_shutdown(ssl.get());
    }
    ERR_clear_error();  // a failed handshake or a client gone early is not this helper's business
  }
};

SniRecorder::SniRecorder() : impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  impl.context.reset(SSL_CTX_new(TLS_server_method()));
  check(impl.context != nullptr, "SSL_CTX_new");
  const TestPki& pki = test_pki();
  Bio cert_bio(BIO_new_mem_buf(pki.server_cert_pem.data(), static_cast<int>(pki.server_cert_pem.size())));
  const Cert cert(cert_bio != nullptr ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  Bio key_bio(BIO_new_mem_buf(pki.server_key_pem.data(), static_cast<int>(pki.server_key_pem.size())));
  const Key key(key_bio != nullptr ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  check(cert != nullptr && key != nullptr, "PEM_read_bio (server certificate and key)");
  check(SSL_CTX_use_certificate(impl.context.get(), cert.get()) == 1 &&
            SSL_CTX_use_PrivateKey(impl.context.get(), key.get()) == 1,
        "SSL_CTX_use_certificate/PrivateKey");
  SSL_CTX_set_tlsext_servername_callback(impl.context.get(), &Impl::on_server_name);
  SSL_CTX_set_tlsext_servername_arg(impl.context.get(), &impl);

  impl.listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (impl.listener < 0) throw std::system_error(errno, std::generic_category(), "SniRecorder: socket()");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(impl.listener, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(impl.listener, 16) != 0 ||
      ::getsockname(impl.listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    const int error = errno;
    ::close(impl.listener);
    throw std::system_error(error, std::generic_category(), "SniRecorder: bind/listen on 127.0.0.1");
  }
  impl.port = ntohs(address.sin_port);

  impl.thread = std::thread([&impl] {
    // A client that closes early must not kill the test process: write() then fails with EPIPE.
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    for (;;) {
      const int fd = ::accept(impl.listener, nullptr, nullptr);
      if (fd < 0) return;  // shut down by the destructor
      impl.serve(fd);
      ::close(fd);
    }
  });
}

SniRecorder::~SniRecorder() {
  ::shutdown(impl_->listener, SHUT_RDWR);  // wakes accept()
  impl_->thread.join();
  ::close(impl_->listener);
}

unsigned short SniRecorder::port() const {
  return impl_->port;
}

std::vector<std::string> SniRecorder::server_names() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->names;
}

}  // namespace roundup::testing
