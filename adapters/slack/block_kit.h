#pragma once
// Renders the platform-neutral Answer as Slack Block Kit messages (chat.postMessage bodies).

#include <cstddef>
#include <nlohmann/json.hpp>
#include <vector>

#include "bot/answer.h"

namespace roundup::adapters::slack {

// Slack's documented limits, and our own tighter per-message budget (see block_kit.cpp).
inline constexpr std::size_t k_max_blocks_per_message = 50;
inline constexpr std::size_t k_max_section_bytes = 3000;
inline constexpr std::size_t k_max_fallback_bytes = 3000;  // `text`: Slack wants < 4,000 chars
inline constexpr std::size_t k_max_message_block_bytes = 12000;

// One or more chat.postMessage body fragments, to be posted in order:
//   {"text": fallback, "blocks": [...], "unfurl_links": false, "unfurl_media": false}
// The caller adds `channel` and `thread_ts`. Every corpus or user string is mrkdwn-escaped.
// Each message has at most k_max_blocks_per_message blocks, every section/context text is at
// most k_max_section_bytes bytes, and `text` at most k_max_fallback_bytes bytes. Long answers
// are split across messages rather than dropped: later messages continue where the previous one
// stopped, and a paper's section is never separated from its roundup context line. Never empty.
std::vector<nlohmann::json> render_messages(const roundup::bot::Answer& answer);

// Slack takes at most five posts to one slash command's response_url (platforms.md).
inline constexpr std::size_t k_max_response_url_posts = 5;
// `messages` cut to k_max_response_url_posts: past that, the last one kept says how many did not
// fit and how to get the whole answer.
std::vector<nlohmann::json> fit_response_url(std::vector<nlohmann::json> messages);

}  // namespace roundup::adapters::slack
