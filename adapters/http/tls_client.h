#pragma once
// Outbound TLS that verifies the peer, shared by the HTTPS client and the Slack Socket Mode
// client. Only their .cpp files include this (it pulls in Asio's SSL headers).

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <string>
#include <string_view>

namespace roundup::adapters::http {

// TLS 1.2 or later, peer verification on, trusting the system store (when `use_system_store`)
// and `ca_file` (when set). Throws std::runtime_error naming `who` when either cannot be loaded.
void configure_verifying_context(boost::asio::ssl::context& context, bool use_system_store, const std::string& ca_file,
                                 std::string_view who);

// Before the handshake: the name the certificate must carry. A DNS name is also sent as SNI; an
// IP literal is matched against IP SANs and gets no SNI (RFC 6066 forbids literals there). The
// check happens inside OpenSSL's chain verification, so a mismatch fails the handshake like an
// untrusted certificate. False when OpenSSL refuses the name.
bool expect_peer_name(SSL* ssl, const std::string& host, bool host_is_ip);

// After a failed handshake: why the chain did not verify, or "" when verification was not the
// reason.
std::string verification_error(SSL* ssl);

}  // namespace roundup::adapters::http
