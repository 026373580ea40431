// libFuzzer target for the HTML converter and what ingest does with its output: saved pages are
// untrusted input. Build: cmake -DROUNDUP_FUZZ=ON with clang (see fuzz/README.md). Seeds: any
// saved .html pages, e.g. build-fuzz/html_text_fuzz build-fuzz/html-corpus ~/saved-pages/.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "retrieval/html_text.h"
#include "retrieval/roundup_parser.h"
#include "text/unicode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view html(reinterpret_cast<const char*>(data), size);
  const roundup::retrieval::HtmlDocument page = roundup::retrieval::parse_html_page(html);
  // The header's promises: valid UTF-8 whatever the bytes, and markdown that is empty or ends in
  // exactly one newline. A broken promise is a crash libFuzzer keeps.
  const std::string_view markdown = page.markdown;
  if (!roundup::text::is_valid_utf8(markdown) || !roundup::text::is_valid_utf8(page.title)) std::abort();
  if (!markdown.empty() && (!markdown.ends_with('\n') || markdown.ends_with("\n\n"))) std::abort();
  // Ingest hands the markdown to the roundup parser.
  const roundup::retrieval::Roundup r = roundup::retrieval::parse_roundup("fuzz", markdown);
  for (const auto& item : r.items) (void)item.title.size();
  return 0;
}
