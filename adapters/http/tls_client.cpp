#include "adapters/http/tls_client.h"

#include <openssl/x509_vfy.h>

#include <boost/beast/core/error.hpp>
#include <stdexcept>

namespace roundup::adapters::http {

namespace ssl = boost::asio::ssl;

void configure_verifying_context(ssl::context& context, bool use_system_store, const std::string& ca_file,
                                 std::string_view who) {
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  context.set_verify_mode(ssl::verify_peer);
  if (use_system_store) {
    boost::beast::error_code ec;
    context.set_default_verify_paths(ec);
    if (ec) throw std::runtime_error(std::string(who) + ": cannot use the system CA store: " + ec.message());
  }
  if (!ca_file.empty()) {
    boost::beast::error_code ec;
    context.load_verify_file(ca_file, ec);
    if (ec) throw std::runtime_error(std::string(who) + ": cannot load CA file '" + ca_file + "': " + ec.message());
  }
}

bool expect_peer_name(SSL* ssl, const std::string& host, bool host_is_ip) {
  if (host_is_ip) return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && SSL_set1_host(ssl, host.c_str()) == 1;
}

std::string verification_error(SSL* ssl) {
  const auto result = SSL_get_verify_result(ssl);
  return result == X509_V_OK ? std::string() : X509_verify_cert_error_string(result);
}

}  // namespace roundup::adapters::http
