// libFuzzer target for the roundup parser, the analyzer and the month finder: roundup files and
// questions are untrusted input. Build: cmake -DROUNDUP_FUZZ=ON with clang (see fuzz/README.md).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "retrieval/analyzer.h"
#include "retrieval/query_intent.h"
#include "retrieval/roundup_parser.h"
#include "text/unicode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The corpus loader only hands valid UTF-8 to the parser; the analyzer sees whatever users type.
  if (roundup::text::is_valid_utf8(text)) {
    const roundup::retrieval::Roundup r = roundup::retrieval::parse_roundup("fuzz", text);
    for (const auto& item : r.items) (void)item.title.size();
    (void)roundup::retrieval::find_month(text);
  }
  static const roundup::retrieval::Analyzer analyzer(nullptr);
  (void)analyzer.analyze(text);
  return 0;
}
