#include "retrieval/passages.h"

#include "retrieval/hashing.h"
#include "text/unicode.h"

namespace roundup::retrieval {

std::vector<std::string> split_sentences(std::string_view text) {
  std::vector<std::string> out;
  const std::u32string cps = decode_utf8(text);
  std::u32string current;
  auto flush = [&] {
    std::string s = trim(encode_utf8(current));
    if (!s.empty()) out.push_back(std::move(s));
    current.clear();
  };
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t cp = cps[i];
    if (cp == '\n') {
      flush();
      continue;
    }
    current.push_back(cp);
    const bool cjk_end = cp == U'。' || cp == U'！' || cp == U'？' || cp == U'；';
    // ASCII terminators end a sentence only before white space (not "3.5" or "e.g.x").
    const bool ascii_end = (cp == '.' || cp == '!' || cp == '?' || cp == ';') &&
                           (i + 1 == cps.size() || cps[i + 1] == ' ' || cps[i + 1] == '\n');
    if (cjk_end || ascii_end) flush();
  }
  flush();
  return out;
}

std::vector<std::string> chunk_text(std::string_view text, std::size_t chunk_chars) {
  std::vector<std::string> pieces;  // paragraphs, long ones cut into sentences
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\n\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string paragraph = trim(text.substr(start, end - start));
    start = end + 2;
    if (paragraph.empty()) continue;
    if (utf8_length(paragraph) <= chunk_chars) {
      pieces.push_back(paragraph);
    } else {
      for (std::string& s : split_sentences(paragraph)) pieces.push_back(std::move(s));
    }
  }
  std::vector<std::string> chunks;
  std::string current;
  std::size_t current_len = 0;
  for (const std::string& piece : pieces) {
    const std::size_t len = utf8_length(piece);
    const std::size_t separator = current.empty() ? 0 : 1;
    if (!current.empty() && current_len + separator + len > chunk_chars) {
      chunks.push_back(std::move(current));
      current.clear();
      current_len = 0;
    }
    if (!current.empty()) {
      current += "\n";
      ++current_len;
    }
    current += piece;
    current_len += len;
  }
  if (!current.empty()) chunks.push_back(std::move(current));
  return chunks;
}

std::vector<Passage> passages_of(const Catalog& catalog, std::size_t roundup_index, std::size_t chunk_chars) {
  std::vector<Passage> out;
  const Roundup& roundup = catalog.roundups()[roundup_index];
  for (std::size_t i = 0; i < roundup.items.size(); ++i) {
    const Item& item = roundup.items[i];
    std::string title = item.title;
    for (const std::string& a : item.authors) title += " " + a;
    std::vector<std::string> chunks = chunk_text(item.summary, chunk_chars);
    // Listed papers have no summary: one passage whose only text is the title field, so the
    // title is not counted twice.
    if (chunks.empty()) chunks.emplace_back();
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      Passage p;
      p.item = ItemRef{roundup_index, i};
      p.chunk = static_cast<int>(c);
      p.title = title;
      p.text = std::move(chunks[c]);
      const std::string key = roundup.id + "\n" + std::to_string(item.ordinal) + "\n" + std::to_string(c) + "\n" +
                              item.title + "\n" + p.text;
      p.id = static_cast<std::int64_t>(fnv1a64(key) & 0x7FFFFFFFFFFFFFFFULL);
      out.push_back(std::move(p));
    }
  }
  return out;
}

}  // namespace roundup::retrieval
