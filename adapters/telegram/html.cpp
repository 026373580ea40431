#include "adapters/telegram/html.h"

#include "adapters/http/url.h"

#include <cstdint>
#include <utility>

#include "adapters/telegram/utf16.h"
#include "bot/grounded_answer.h"
#include "text/unicode.h"

namespace roundup::adapters::telegram {

namespace {

using bot::Answer;
using bot::PaperCitation;

constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD

// An href longer than this (after percent-encoding and escaping) is not made a link: the title is
// shown unlinked and the URL as text. This keeps a link's tags far below the message limit, so the
// title inside them always has room (see split_line).
constexpr std::size_t k_max_href_bytes = 2048;

enum class Mode { html, plain };

// A run of text with the tags around it. A span that must be cut is re-wrapped in the same tags,
// so every piece stays balanced on its own. Tags are ignored in plain mode.
struct Span {
  std::string open;
  std::string text;  // raw: escaped (or, in plain mode, only sanitised) when rendered
  std::string close;
};
using Line = std::vector<Span>;
using Block = std::vector<Line>;  // a paragraph; paragraphs are separated by a blank line

Span plain(std::string text) {
  return Span{"", std::move(text), ""};
}
Span bold(std::string text) {
  return Span{"<b>", std::move(text), "</b>"};
}
Span italic(std::string text) {
  return Span{"<i>", std::move(text), "</i>"};
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

bool blank(std::string_view text) {
  for (const char c : text)
    if (!is_space(c)) return false;
  return true;
}

// Text after escaping (HTML) or sanitising (plain), with where each atom starts: an atom is a
// code point or an entity, the smallest piece a cut may not split.
struct Atoms {
  std::string text;
  std::vector<std::size_t> starts;
  std::vector<std::size_t> units;  // UTF-16 units of each atom
  std::vector<bool> space;
};

Atoms to_atoms(std::string_view raw, Mode mode) {
  Atoms out;
  out.text.reserve(raw.size());
  for (std::size_t pos = 0; pos < raw.size();) {
    out.starts.push_back(out.text.size());
    const char c = raw[pos];
    out.space.push_back(is_space(c));
    const std::size_t length = utf8_sequence_length(raw, pos);
    if (length == 0) {
      out.text += k_replacement;
      out.units.push_back(1);
      pos += 1;
      continue;
    }
    const std::size_t before = out.text.size();
    if (mode == Mode::html && c == '&')
      out.text += "&amp;";
    else if (mode == Mode::html && c == '<')
      out.text += "&lt;";
    else if (mode == Mode::html && c == '>')
      out.text += "&gt;";
    else if (mode == Mode::html && c == '"')
      out.text += "&quot;";
    else
      out.text.append(raw.substr(pos, length));
    // Entities are ASCII; a 4-byte sequence is a surrogate pair.
    out.units.push_back(length == 4 ? 2 : (length == 1 ? out.text.size() - before : 1));
    pos += length;
  }
  return out;
}

// The escaped text in pieces of at most `budget` UTF-16 units (budget >= 6, the longest atom),
// cut between atoms and preferably just after a space in the second half of a piece.
std::vector<std::string> split_text(std::string_view raw, Mode mode, std::size_t budget) {
  const Atoms atoms = to_atoms(raw, mode);
  const std::size_t count = atoms.starts.size();
  auto start = [&](std::size_t atom) { return atom < count ? atoms.starts[atom] : atoms.text.size(); };

  std::vector<std::string> pieces;
  std::size_t first = 0;
  while (first < count) {
    std::size_t end = first;
    std::size_t used = 0;
    while (end < count && used + atoms.units[end] <= budget) used += atoms.units[end++];
    if (end == first) ++end;  // unreachable with budget >= 6; guarantees progress regardless
    if (end < count) {
      for (std::size_t cut = end; cut > first && used >= budget / 2; used -= atoms.units[--cut]) {
        if (atoms.space[cut - 1]) {
          end = cut;
          break;
        }
      }
    }
    pieces.push_back(atoms.text.substr(start(first), start(end) - start(first)));
    first = end;
  }
  return pieces;
}

std::string render_span(const Span& span, Mode mode) {
  if (mode == Mode::plain) return to_atoms(span.text, mode).text;
  return span.open + escape_html(span.text) + span.close;
}

std::string render_line(const Line& line, Mode mode) {
  std::string out;
  for (const Span& span : line) out += render_span(span, mode);
  return out;
}

std::string render_block(const Block& block, Mode mode) {
  std::string out;
  for (const Line& line : block) {
    if (!out.empty()) out += '\n';
    out += render_line(line, mode);
  }
  return out;
}

// A line too long for one message, as rendered pieces of at most k_max_message_utf16 units each,
// to be concatenated with nothing between them. Whole spans where they fit; a span that alone
// does not fit is cut in its text and every piece wrapped in the span's tags.
std::vector<std::string> split_line(const Line& line, Mode mode) {
  std::vector<std::string> pieces;
  std::string current;
  std::size_t used = 0;
  auto add = [&](const std::string& piece, std::size_t units) {
    if (used + units > k_max_message_utf16 && !current.empty()) {
      pieces.push_back(std::move(current));
      current.clear();
      used = 0;
    }
    current += piece;
    used += units;
  };
  for (const Span& span : line) {
    std::string rendered = render_span(span, mode);
    const std::size_t units = utf16_length(rendered);
    if (units <= k_max_message_utf16) {
      add(rendered, units);
      continue;
    }
    const std::string open = mode == Mode::html ? span.open : std::string();
    const std::string close = mode == Mode::html ? span.close : std::string();
    // Tags are ASCII and bounded (k_max_href_bytes), so the budget is well above 6.
    const std::size_t budget = k_max_message_utf16 - open.size() - close.size();
    for (const std::string& text : split_text(span.text, mode, budget)) {
      std::string piece = open;
      piece += text;
      piece += close;
      add(piece, utf16_length(piece));
    }
  }
  if (!current.empty()) pieces.push_back(std::move(current));
  return pieces;
}

// Packs paragraphs into messages: a paragraph goes whole into the current message, or whole into
// the next one, or (when longer than a message) line by line, and a line longer than a message in
// pieces. The separator at a split is dropped.
class Chunker {
 public:
  explicit Chunker(Mode mode) : mode_(mode) {}

  void add_block(const Block& block) {
    constexpr std::string_view separator = "\n\n";  // dropped at the start of a message
    std::string rendered = render_block(block, mode_);
    const std::size_t units = utf16_length(rendered);
    if (units <= k_max_message_utf16) {
      place(separator, rendered, units);
      return;
    }
    for (std::size_t i = 0; i < block.size(); ++i) add_line(block[i], i == 0 ? separator : "\n");
  }

  std::vector<std::string> finish() {
    flush();
    return std::move(chunks_);
  }

 private:
  void add_line(const Line& line, std::string_view separator) {
    std::string rendered = render_line(line, mode_);
    const std::size_t units = utf16_length(rendered);
    if (units <= k_max_message_utf16) {
      place(separator, rendered, units);
      return;
    }
    const std::vector<std::string> pieces = split_line(line, mode_);
    for (std::size_t i = 0; i < pieces.size(); ++i) place(i == 0 ? separator : "", pieces[i], utf16_length(pieces[i]));
  }

  // Appends `text` (at most k_max_message_utf16 units) after `separator`, or starts a new message
  // with it when it does not fit.
  void place(std::string_view separator, const std::string& text, std::size_t units) {
    if (!current_.empty() && used_ + separator.size() + units > k_max_message_utf16) flush();
    if (!current_.empty()) {
      current_ += separator;
      used_ += separator.size();
    }
    current_ += text;
    used_ += units;
  }

  void flush() {
    if (!current_.empty()) chunks_.push_back(std::move(current_));
    current_.clear();
    used_ = 0;
  }

  Mode mode_;
  std::vector<std::string> chunks_;
  std::string current_;
  std::size_t used_ = 0;
};

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Only web links: javascript:, data:, tg: and the like are never linked.
bool linkable(std::string_view url) {
  return (starts_with_ci(url, "http://") && url.size() > 7) || (starts_with_ci(url, "https://") && url.size() > 8);
}

// The URL as an href attribute value: spaces, controls, non-ASCII bytes and " < > are
// percent-encoded, & is escaped, so the value can never close the attribute or the tag.
std::string href_value(std::string_view url) {
  return http::encode_link_target(url, "\"<>");
}

std::string display_title(const PaperCitation& paper) {
  if (!blank(paper.title)) return paper.title;
  if (!blank(paper.paper_id)) return paper.paper_id;
  return "Untitled";
}

std::string roundup_label(const PaperCitation& paper) {
  std::string out;
  for (const bot::RoundupCitation& roundup : paper.roundups) {
    if (blank(roundup.title) && blank(roundup.month)) continue;
    if (!out.empty()) out += "; ";
    out += blank(roundup.title) ? roundup.id : roundup.title;
    if (!blank(roundup.month)) out += " (" + roundup.month + ")";
  }
  return out;
}

class BlockBuilder {
 public:
  explicit BlockBuilder(Mode mode) : mode_(mode) {}

  std::vector<Block> build(const Answer& answer) const {
    std::vector<Block> blocks;
    if (!blank(answer.heading)) blocks.push_back({{bold(answer.heading)}});
    if (answer.written_by_model)
      add_model_block(blocks, answer.lines, answer.citations);
    else
      add_text_block(blocks, answer.lines);

    // A model's [n] cites the n-th source, so its sources are numbered.
    const bool listing = answer.is_listing();
    const bool numbered = listing || answer.written_by_model;
    for (std::size_t i = 0; i < answer.citations.size(); ++i) {
      Block block = citation(answer.citations[i], numbered ? i + 1 : 0, listing);
      if (!listing && i == 0)
        block.insert(block.begin(), Line{bold(answer.citations.size() == 1 ? "Source" : "Sources")});
      blocks.push_back(std::move(block));
    }

    if (!answer.related.empty()) {
      Block block{{bold("Related")}};
      for (const PaperCitation& paper : answer.related) {
        Line line{plain("• "), title_span(paper, "", "")};
        if (!blank(paper.authors)) line.push_back(plain(" — " + paper.authors));
        block.push_back(std::move(line));
        if (shows_url_as_text(paper)) block.push_back({plain("  " + paper.url)});
      }
      blocks.push_back(std::move(block));
    }

    add_text_block(blocks, answer.suggestions);
    return blocks;
  }

 private:
  static void add_text_block(std::vector<Block>& blocks, const std::vector<std::string>& lines) {
    Block block;
    for (const std::string& line : lines)
      if (!blank(line)) block.push_back({plain(line)});
    if (!block.empty()) blocks.push_back(std::move(block));
  }

  // A model's lines: prose as plain text (escaped when rendered), each [n] marker a link to the
  // n-th source where that source has one.
  void add_model_block(std::vector<Block>& blocks, const std::vector<std::string>& lines,
                       const std::vector<PaperCitation>& sources) const {
    Block block;
    for (const std::string& text : lines) {
      if (blank(text)) continue;
      Line line;
      for (const bot::MarkerSegment& segment : bot::split_markers(text)) {
        if (segment.marker == 0) {
          line.push_back(plain(std::string(segment.text)));
          continue;
        }
        std::string label = "[" + std::to_string(segment.marker) + "]";
        const bool linked = segment.marker <= sources.size() && links(sources[segment.marker - 1]);
        line.push_back(
            linked ? Span{"<a href=\"" + href_value(sources[segment.marker - 1].url) + "\">", std::move(label), "</a>"}
                   : plain(std::move(label)));
      }
      block.push_back(std::move(line));
    }
    if (!block.empty()) blocks.push_back(std::move(block));
  }

  bool links(const PaperCitation& paper) const {
    return mode_ == Mode::html && linkable(paper.url) && href_value(paper.url).size() <= k_max_href_bytes;
  }

  // Plain text has no links, so a web URL is shown; in HTML only one too long for an href.
  bool shows_url_as_text(const PaperCitation& paper) const { return linkable(paper.url) && !links(paper); }

  // The title wrapped in `open`/`close`, and inside those in a link when the paper has one.
  Span title_span(const PaperCitation& paper, const std::string& open, const std::string& close) const {
    if (!links(paper)) return Span{open, display_title(paper), close};
    return Span{open + "<a href=\"" + href_value(paper.url) + "\">", display_title(paper), "</a>" + close};
  }

  Block citation(const PaperCitation& paper, std::size_t number, bool with_summary) const {
    Block block;
    Line title;
    if (number > 0) title.push_back(plain(std::to_string(number) + ". "));
    title.push_back(title_span(paper, "<b>", "</b>"));
    block.push_back(std::move(title));
    if (!blank(paper.authors)) block.push_back({italic(paper.authors)});
    const std::string roundups = roundup_label(paper);
    if (!roundups.empty())
      block.push_back({plain((paper.roundups.size() > 1 ? "Roundups: " : "Roundup: ") + roundups)});
    if (shows_url_as_text(paper)) block.push_back({plain(paper.url)});
    if (with_summary && !blank(paper.summary)) block.push_back({plain(paper.summary)});
    return block;
  }

  Mode mode_;
};

// Whether a chunk shows nothing but whitespace (Telegram rejects an empty message text).
bool shows_nothing(std::string_view chunk, Mode mode) {
  bool in_tag = false;
  for (const char c : chunk) {
    if (mode == Mode::html && c == '<') in_tag = true;
    if (!in_tag && !is_space(c)) return false;
    if (mode == Mode::html && c == '>') in_tag = false;
  }
  return true;
}

std::vector<std::string> render(const Answer& answer, Mode mode) {
  Chunker chunker(mode);
  for (const Block& block : BlockBuilder(mode).build(answer)) chunker.add_block(block);
  std::vector<std::string> chunks;
  for (std::string& chunk : chunker.finish())
    if (!shows_nothing(chunk, mode)) chunks.push_back(std::move(chunk));
  if (chunks.empty()) chunks.emplace_back(mode == Mode::html ? "<i>Nothing to show.</i>" : "Nothing to show.");
  return chunks;
}

}  // namespace

std::string escape_html(std::string_view raw) {
  return to_atoms(raw, Mode::html).text;
}

std::vector<std::string> render_messages(const Answer& answer) {
  return render(answer, Mode::html);
}

std::vector<std::string> render_plain(const Answer& answer) {
  return render(answer, Mode::plain);
}

namespace {

std::string decode_html_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      static constexpr std::pair<std::string_view, char> k_entities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}};
      bool decoded = false;
      for (const auto& [entity, c] : k_entities) {
        if (text.substr(i, entity.size()) == entity) {
          out += c;
          i += entity.size() - 1;
          decoded = true;
          break;
        }
      }
      if (decoded) continue;
    }
    out += text[i];
  }
  return out;
}

std::string strip_tags(std::string_view html, bool keep_urls) {
  std::string out;
  std::string pending_url;
  std::size_t i = 0;
  while (i < html.size()) {
    if (html[i] != '<') {
      const auto next = html.find('<', i);
      out += decode_html_entities(html.substr(i, next == std::string_view::npos ? std::string_view::npos : next - i));
      i = next == std::string_view::npos ? html.size() : next;
      continue;
    }
    const auto close = html.find('>', i);
    if (close == std::string_view::npos) break;
    const std::string_view tag = html.substr(i + 1, close - i - 1);
    if (tag.substr(0, 2) == "a ") {
      const auto href = tag.find("href=\"");
      if (href != std::string_view::npos) {
        const auto end = tag.find('"', href + 6);
        pending_url = decode_html_entities(
            tag.substr(href + 6, end == std::string_view::npos ? std::string_view::npos : end - href - 6));
      }
    } else if (tag == "/a") {
      if (keep_urls && !pending_url.empty()) out += " (" + pending_url + ")";
      pending_url.clear();
    }
    i = close + 1;
  }
  return out;
}

}  // namespace

std::string html_to_plain(std::string_view html) {
  std::string plain = strip_tags(html, /*keep_urls=*/true);
  if (utf16_length(plain) <= k_max_message_utf16) return plain;
  return truncate_utf16(strip_tags(html, /*keep_urls=*/false), k_max_message_utf16);
}

}  // namespace roundup::adapters::telegram
