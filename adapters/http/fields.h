#pragma once
// The syntax of HTTP/1.1 header fields (RFC 9110 section 5), shared by the server's responses and
// the client's requests: a field or method the peer's parser would reject, or that could split the
// header block, is refused before it reaches the wire.

#include <string_view>

namespace roundup::adapters::http {

// A token (RFC 9110 section 5.6.2): a field name or a method. Not empty.
bool is_token(std::string_view text);

// A field value (RFC 9110 section 5.5): visible ASCII, obs-text (bytes 0x80-0xFF), space and tab.
// Any other control byte (CR, LF, NUL, 0x01, DEL...) is refused: CR and LF would split the header
// block, and a parser rejects the whole message over the others.
bool is_field_value(std::string_view text);

}  // namespace roundup::adapters::http
