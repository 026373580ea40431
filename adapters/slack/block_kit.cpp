#include "adapters/slack/block_kit.h"

#include <string>
#include <string_view>
#include <utility>

#include "adapters/slack/mrkdwn.h"
#include "bot/grounded_answer.h"

namespace roundup::adapters::slack {

namespace {

using bot::Answer;
using bot::PaperCitation;
using nlohmann::json;

// Per-field caps. Titles and headings are capped raw (before escaping, which grows text at most
// 5x: '&' -> "&amp;"); authors are capped escaped. Worst case a citation section holds
// 4 + 2 + (1,000 url + 1,500 title + 3) + 1 + 300 bytes < 3,000, and the summary gets the rest.
constexpr std::size_t k_max_title_bytes = 300;
constexpr std::size_t k_max_heading_bytes = 500;
constexpr std::size_t k_max_authors_bytes = 300;  // escaped
// A percent-encoded URL longer than this is not worth a link: the title is shown unlinked.
constexpr std::size_t k_max_link_url_bytes = 1000;

// Slack has reported msg_blocks_too_long well below the documented totals, so besides the
// 50-block limit a message also carries at most k_max_message_block_bytes of block text.

// Blocks that must be posted in the same message (a paper and its roundup line), with their
// size and a plain-text summary for the notification fallback.
struct Unit {
  std::vector<json> blocks;
  std::size_t text_bytes = 0;
  std::string fallback;  // raw (unescaped) text
};

json mrkdwn_object(std::string text) {
  return json{{"type", "mrkdwn"}, {"text", std::move(text)}};
}

json section(std::string text) {
  return json{{"type", "section"}, {"text", mrkdwn_object(std::move(text))}};
}

json context(std::string text) {
  return json{{"type", "context"}, {"elements", json::array({mrkdwn_object(std::move(text))})}};
}

Unit single_block_unit(json block, std::size_t text_bytes, std::string fallback) {
  Unit unit;
  unit.blocks.push_back(std::move(block));
  unit.text_bytes = text_bytes;
  unit.fallback = std::move(fallback);
  return unit;
}

// Packs already-escaped lines (each at most k_max_section_bytes) into as few sections as
// possible; each section is its own unit so a message split can fall between them.
void add_line_sections(std::vector<Unit>& units, const std::vector<std::string>& escaped_lines,
                       const std::vector<std::string>& raw_lines) {
  std::string text;
  std::string fallback;
  auto flush = [&] {
    if (text.empty()) return;
    const std::size_t bytes = text.size();
    units.push_back(single_block_unit(section(std::move(text)), bytes, std::move(fallback)));
    text.clear();
    fallback.clear();
  };
  for (std::size_t i = 0; i < escaped_lines.size(); ++i) {
    const std::string& line = escaped_lines[i];
    if (!text.empty() && text.size() + 1 + line.size() > k_max_section_bytes) flush();
    if (!text.empty()) {
      text += '\n';
      fallback += '\n';
    }
    text += line;
    fallback += raw_lines[i];
  }
  flush();
}

// Splits each raw line into escaped pieces that fit a section; nothing is dropped.
void add_text_lines(std::vector<std::string>& escaped, std::vector<std::string>& raw, std::string_view line) {
  const std::vector<std::string> chunks = escape_mrkdwn_split(line, k_max_section_bytes);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    escaped.push_back(chunks[i]);
    // The fallback only needs the beginning of a long line once.
    raw.push_back(i == 0 ? std::string(line) : std::string());
  }
}

// A model-written line: its prose escaped like any text (so "<!channel>" or "<url|label>" in it
// is shown, not obeyed), each [n] marker a link to the n-th source, packed into pieces that fit a
// section. A marker without a web source stays plain text. Nothing is dropped.
void add_model_line(std::vector<std::string>& escaped, std::vector<std::string>& raw, std::string_view line,
                    const std::vector<PaperCitation>& sources) {
  std::vector<std::string> pieces;
  for (const bot::MarkerSegment& segment : bot::split_markers(line)) {
    if (segment.marker == 0) {
      for (std::string& chunk : escape_mrkdwn_split(segment.text, k_max_section_bytes))
        pieces.push_back(std::move(chunk));
      continue;
    }
    const std::string label = "[" + std::to_string(segment.marker) + "]";
    std::string linked = segment.marker <= sources.size() ? link(sources[segment.marker - 1].url, label) : label;
    if (linked.size() > k_max_link_url_bytes + label.size() + 3) linked = label;
    pieces.push_back(std::move(linked));
  }
  std::string text;
  bool first = true;
  auto flush = [&] {
    escaped.push_back(std::move(text));
    // The fallback only needs the beginning of a long line once.
    raw.push_back(first ? std::string(line) : std::string());
    text.clear();
    first = false;
  };
  for (const std::string& piece : pieces) {
    if (!text.empty() && text.size() + piece.size() > k_max_section_bytes) flush();
    text += piece;
  }
  if (!text.empty()) flush();
}

std::string title_link(const PaperCitation& paper) {
  const std::string title = truncate_utf8(paper.title.empty() ? paper.paper_id : paper.title, k_max_title_bytes);
  std::string linked = link(paper.url, title);
  if (linked.size() > k_max_link_url_bytes + 5 * k_max_title_bytes + 3) linked = link("", title);
  return linked;
}

std::string roundup_label(const PaperCitation& paper) {
  std::string out;
  for (const bot::RoundupCitation& roundup : paper.roundups) {
    if (!out.empty()) out += "; ";
    out += roundup.title;
    if (!roundup.month.empty()) out += " (" + roundup.month + ")";
  }
  return out;
}

std::string plain_citation(const PaperCitation& paper) {
  std::string out = truncate_utf8(paper.title, k_max_title_bytes);
  if (!paper.authors.empty()) out += " — " + truncate_utf8(paper.authors, k_max_authors_bytes);
  return out;
}

Unit citation_unit(const PaperCitation& paper, std::size_t number, bool with_summary) {
  std::string text;
  if (number > 0) text += std::to_string(number) + ". ";
  text += "*" + title_link(paper) + "*";
  if (!paper.authors.empty()) text += "\n" + escape_mrkdwn_fit(paper.authors, k_max_authors_bytes);
  if (with_summary && !paper.summary.empty() && text.size() + 1 + 16 <= k_max_section_bytes)
    text += "\n" + escape_mrkdwn_fit(paper.summary, k_max_section_bytes - text.size() - 1);

  Unit unit;
  unit.text_bytes = text.size();
  unit.blocks.push_back(section(std::move(text)));
  const std::string label = roundup_label(paper);
  if (!label.empty()) {
    std::string line = escape_mrkdwn_fit("Roundup: " + label, k_max_section_bytes);
    unit.text_bytes += line.size();
    unit.blocks.push_back(context(std::move(line)));
  }
  unit.fallback = (number > 0 ? std::to_string(number) + ". " : std::string()) + plain_citation(paper);
  return unit;
}

void add_related(std::vector<Unit>& units, const std::vector<PaperCitation>& related) {
  if (related.empty()) return;
  std::vector<std::string> escaped{"*Related*"};
  std::vector<std::string> raw{"Related:"};
  for (const PaperCitation& paper : related) {
    std::string item = "• " + title_link(paper);
    if (!paper.authors.empty()) item += " — " + escape_mrkdwn_fit(paper.authors, k_max_authors_bytes);
    escaped.push_back(std::move(item));
    raw.push_back("- " + plain_citation(paper));
  }
  add_line_sections(units, escaped, raw);
}

std::vector<Unit> build_units(const Answer& answer) {
  std::vector<Unit> units;
  if (!answer.heading.empty()) {
    // A section rather than a `header` block: header blocks are plain text capped at 150 chars.
    std::string text = "*" + escape_mrkdwn(truncate_utf8(answer.heading, k_max_heading_bytes)) + "*";
    const std::size_t bytes = text.size();
    units.push_back(single_block_unit(section(std::move(text)), bytes, answer.heading));
  }

  std::vector<std::string> escaped;
  std::vector<std::string> raw;
  for (const std::string& line : answer.lines) {
    if (answer.written_by_model)
      add_model_line(escaped, raw, line, answer.citations);
    else
      add_text_lines(escaped, raw, line);
  }
  add_line_sections(units, escaped, raw);

  // A model's [n] cites the n-th source, so its sources are numbered.
  const bool listing = answer.is_listing();
  const bool numbered = listing || answer.written_by_model;
  for (std::size_t i = 0; i < answer.citations.size(); ++i)
    units.push_back(citation_unit(answer.citations[i], numbered ? i + 1 : 0, listing));

  add_related(units, answer.related);

  escaped.clear();
  raw.clear();
  for (const std::string& suggestion : answer.suggestions) add_text_lines(escaped, raw, suggestion);
  add_line_sections(units, escaped, raw);

  if (units.empty()) units.push_back(single_block_unit(section("_Nothing to show._"), 18, "Nothing to show."));
  return units;
}

json make_message(std::vector<json> blocks, std::string_view fallback_raw) {
  return json{{"text", escape_mrkdwn_fit(fallback_raw, k_max_fallback_bytes)},
              {"blocks", std::move(blocks)},
              {"unfurl_links", false},
              {"unfurl_media", false}};
}

}  // namespace

std::vector<json> render_messages(const Answer& answer) {
  const std::vector<Unit> units = build_units(answer);

  std::vector<json> messages;
  std::vector<json> blocks;
  std::size_t block_bytes = 0;
  std::string fallback;
  auto flush = [&] {
    if (blocks.empty()) return;
    messages.push_back(make_message(std::move(blocks), fallback));
    blocks.clear();
    block_bytes = 0;
    // Continuations name what they continue, so a notification still makes sense alone.
    fallback = (answer.heading.empty() ? std::string("Continued") : answer.heading + " (continued)") + "\n";
  };
  for (const Unit& unit : units) {
    if (!blocks.empty() && (blocks.size() + unit.blocks.size() > k_max_blocks_per_message ||
                            block_bytes + unit.text_bytes > k_max_message_block_bytes))
      flush();
    blocks.insert(blocks.end(), unit.blocks.begin(), unit.blocks.end());
    block_bytes += unit.text_bytes;
    // Stop growing the fallback once it is over budget; make_message cuts it precisely.
    if (!unit.fallback.empty() && fallback.size() <= 2 * k_max_fallback_bytes) {
      if (!fallback.empty() && fallback.back() != '\n') fallback += '\n';
      fallback += unit.fallback;
    }
  }
  flush();
  return messages;
}

std::vector<json> fit_response_url(std::vector<json> messages) {
  if (messages.size() <= k_max_response_url_posts) return messages;
  const std::size_t cut = messages.size() - (k_max_response_url_posts - 1);
  messages.resize(k_max_response_url_posts - 1);
  Answer notice;
  notice.kind = Answer::Kind::notice;
  notice.lines = {"The rest of this answer (" + std::to_string(cut) +
                  " more messages) did not fit: Slack takes five replies to a slash command. Ask a narrower "
                  "question, or mention me in a channel to get all of it."};
  messages.push_back(render_messages(notice).front());
  return messages;
}

}  // namespace roundup::adapters::slack
