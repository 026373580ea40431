#pragma once
// Saved web pages (.html) as roundup text: gumbo parses the page (HTML5 tree building, entities,
// invalid bytes), and the article is written out in the markdown dialect the roundup parser
// reads (retrieval/roundup_parser.h), so a blog post saved from a browser ingests like a roundup.

#include <string>
#include <string_view>

namespace roundup::retrieval {

struct HtmlDocument {
  // The article as markdown, valid UTF-8, ending in one "\n" (empty when the page has no text).
  // It starts with "# <title>" whenever title is set; the article's own <h1> is that line, so it
  // never appears twice. Rules: blocks are paragraphs separated by one blank line; "#" headings;
  // "- " / "N. " list items, one line each, nested lists indented two spaces per level;
  // "[text](url)" links (http(s) only, relative ones resolved); **strong**, *em*, `code`;
  // ``` fenced <pre>; "> " quotes; "---" rules; table rows as cells joined by " | ".
  std::string markdown;
  // The article's <h1> when it has one, else the page's <title>; trimmed, white space squashed.
  std::string title;
  // "YYYY-MM-DD" or "YYYY-MM" from <meta property="article:published_time">, <meta name="date">,
  // <meta itemprop="datePublished"> or the article's first <time datetime>, first valid one in
  // that order; only ISO 8601 values are read. Empty when none.
  std::string published;
  // Absolute http(s) URL from <link rel="canonical">, else <meta property="og:url"> (a relative
  // one is resolved against <base href>). Empty when none.
  std::string canonical_url;
};

// Never throws on odd input: malformed HTML, any nesting depth and invalid UTF-8 are tolerated.
// The article is the first <article>, else <main>, else <body>; page furniture (navigation,
// asides, scripts, forms, site headers and footers, hidden elements) is left out.
// Elements nested more than 256 levels deep add their text only (no markup, no line breaks).
// Cost: the conversion is linear in the page size; gumbo's own tree building is not for deeply
// nested block or formatting elements (each <div> start tag scans the open elements, each <b>
// the formatting list: 100,000 nested <div>s take about 15 s), so callers bound the size of the
// pages they accept.
HtmlDocument parse_html_page(std::string_view html);

}  // namespace roundup::retrieval
