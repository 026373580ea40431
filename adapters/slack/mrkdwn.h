#pragma once
// Slack mrkdwn text for strings we did not author (corpus titles, user text): escaping, links,
// and size-bounded cutting that never splits a code point or an entity.
//
// Sizes are in UTF-8 bytes. Slack counts its limits in characters, and a character is at least
// one byte, so a byte bound is a safe (conservative) character bound.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace roundup::adapters::slack {

// Replaces & < > with &amp; &lt; &gt; (the only escapes Slack wants). Invalid UTF-8 bytes become
// U+FFFD, because nlohmann::json refuses to serialise invalid UTF-8 and one bad title must not
// sink a whole reply.
std::string escape_mrkdwn(std::string_view raw);

// <url|label>. The label is escaped, its '|' becomes U+2758 (a look-alike that cannot end the
// URL part) and line breaks become spaces. In the URL, '|', '<', '>', spaces, control bytes and
// non-ASCII bytes are percent-encoded and '&' becomes &amp; (Slack decodes it), so neither part
// can break out of the link. Only http(s) URLs are linked: anything else in the URL part is
// Slack markup (<!channel>, <!here>, <@U123>, <#C123>), so another url, or an empty one, yields
// just the escaped label. An empty label yields <url>.
std::string link(std::string_view url, std::string_view label);

// The escaped text split into chunks of at most `max_bytes` bytes each (max_bytes >= 16). Every
// chunk but the last ends with "…"; cuts prefer a space in the second half of a chunk (the space
// itself is dropped) and otherwise fall between code points, never inside an entity. Nothing
// else is lost. Empty input gives no chunks.
std::vector<std::string> escape_mrkdwn_split(std::string_view raw, std::size_t max_bytes);

// The escaped text, cut to at most `max_bytes` bytes (max_bytes >= 16) and ending with "…" when
// cut: the first chunk of escape_mrkdwn_split.
std::string escape_mrkdwn_fit(std::string_view raw, std::size_t max_bytes);

// The raw (unescaped) text cut to at most `max_bytes` bytes at a code point boundary, with "…"
// appended within the bound when cut (max_bytes >= 4). Used to cap a field before escaping.
std::string truncate_utf8(std::string_view raw, std::size_t max_bytes);

}  // namespace roundup::adapters::slack
