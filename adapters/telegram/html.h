#pragma once
// Renders the platform-neutral Answer as Telegram sendMessage texts: HTML (parse_mode "HTML") and
// a plain-text twin for when Telegram rejects the HTML (400 "can't parse entities").

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "bot/answer.h"

namespace roundup::adapters::telegram {

// sendMessage accepts at most 4,096 characters after entity parsing. We hold every chunk's raw
// text (HTML tags and entities included) to this many UTF-16 code units, which is stricter.
inline constexpr std::size_t k_max_message_utf16 = 4096;

// Replaces & < > " with &amp; &lt; &gt; &quot;, which makes text safe both between tags and inside
// a double-quoted attribute. Invalid UTF-8 bytes become U+FFFD, because a sendMessage body is
// JSON and nlohmann::json refuses to serialise invalid UTF-8.
std::string escape_html(std::string_view raw);

// The answer as one or more HTML messages, to be sent in order with parse_mode "HTML": the heading
// in bold; the answer lines; each cited paper as its own paragraph (bold title linked to its URL,
// authors in italics, its roundups with their months, and for listings a number and the summary);
// related papers; suggestions. Only http(s) URLs become links (<a href="...">, the URL
// percent-encoded where it could break out of the attribute); other URLs are not shown. Every
// corpus or user string is escaped.
//
// Each chunk is at most k_max_message_utf16 UTF-16 units, is non-empty and not blank, and is
// valid HTML on its own: every tag it opens it closes. Splits fall between paragraphs where
// possible, then between lines; a line longer than a message is cut in its text (preferably at a
// space, never inside an entity or a surrogate pair) and each piece re-wrapped in the line's tags.
// Nothing is dropped apart from the whitespace at a split. Never empty.
std::vector<std::string> render_messages(const roundup::bot::Answer& answer);

// The same content as plain text (no parse_mode): no tags or entities, paper URLs on their own
// lines. Split like render_messages, each chunk at most k_max_message_utf16 UTF-16 units. Never
// empty.
std::vector<std::string> render_plain(const roundup::bot::Answer& answer);

// One rendered HTML chunk as plain text, for resending that very chunk when Telegram rejects its
// entities: tags removed, entities decoded, a link's URL kept after its label ("title (url)").
// At most k_max_message_utf16 UTF-16 units: URLs are left out if keeping them would exceed it.
std::string html_to_plain(std::string_view html);

}  // namespace roundup::adapters::telegram
