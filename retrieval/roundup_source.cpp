#include "retrieval/roundup_source.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "retrieval/html_text.h"
#include "text/unicode.h"

namespace roundup::retrieval {

namespace {

constexpr std::size_t k_front_matter_max_lines = 40;

std::string extension_of(std::string_view file_name) {
  return fold(std::filesystem::path(std::string(file_name)).extension().string());
}

bool valid_month(std::string_view s) {
  if (s.size() != 7 || s[4] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6})
    if (s[i] < '0' || s[i] > '9') return false;
  const int year = std::stoi(std::string(s.substr(0, 4)));
  const int month = std::stoi(std::string(s.substr(5, 2)));
  return year >= 1990 && year <= 2099 && month >= 1 && month <= 12;
}

// "2023-07" or "2023-07-14" -> "2023-07"; nullopt otherwise.
std::optional<std::string> month_of(std::string_view value) {
  if (value.size() == 10 && value[7] == '-' && valid_month(value.substr(0, 7))) return std::string(value.substr(0, 7));
  if (valid_month(value)) return std::string(value);
  return std::nullopt;
}

std::string unquote(std::string value) {
  value = trim(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
    value = value.substr(1, value.size() - 2);
  return trim(value);
}

// Sets one metadata key; a warning names what was wrong with it.
void set_key(RoundupMetadata& meta, std::string key, const std::string& value, std::string_view where,
             std::vector<std::string>& warnings) {
  key = fold(key);
  const auto warn = [&](const std::string& why) { warnings.push_back(std::string(where) + ": " + why); };
  if (value.empty()) {
    warn("'" + key + "' is empty; ignored");
  } else if (key == "title") {
    meta.title = value;
  } else if (key == "month" || key == "date") {
    if (auto month = month_of(value)) {
      meta.month = *month;
    } else {
      warn("'" + key + "' must be YYYY-MM or YYYY-MM-DD, not '" + utf8_prefix(value, 40) + "'; ignored");
    }
  } else if (key == "source" || key == "source_url" || key == "url") {
    if (value.starts_with("http://") || value.starts_with("https://")) {
      meta.source_url = value;
    } else {
      warn("'" + key + "' must be an http(s) URL; ignored");
    }
  } else if (key == "language" || key == "lang") {
    const std::string lang = fold(value);
    if (lang.starts_with("zh") || lang == "chinese") {
      meta.language = "zh";
    } else if (lang.starts_with("en") || lang == "english") {
      meta.language = "en";
    } else {
      warn("'language' must be en or zh, not '" + utf8_prefix(value, 20) + "'; ignored");
    }
  } else {
    warn("unknown key '" + utf8_prefix(key, 40) + "' ignored (known: title, month, source_url, language)");
  }
}

bool is_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A "---" block of "key: value" lines at the very top. Its lines are blanked in text (line
// numbers stay those of the file). A "---" that opens anything else is a separator, not metadata.
std::optional<RoundupMetadata> take_front_matter(std::string& text, std::vector<std::string>& warnings) {
  std::size_t start = text.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::size_t first_end = text.find('\n', start);
  if (first_end == std::string::npos || trim(std::string_view(text).substr(start, first_end - start)) != "---")
    return std::nullopt;
  std::vector<std::pair<std::string, std::string>> pairs;
  std::size_t pos = first_end + 1;
  for (std::size_t n = 0; n < k_front_matter_max_lines && pos < text.size(); ++n) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = trim(std::string_view(text).substr(pos, end - pos));
    if (line == "---" || line == "...") {
      RoundupMetadata meta;
      for (const auto& [key, value] : pairs) set_key(meta, key, value, "front matter", warnings);
      for (std::size_t i = start; i < end; ++i)
        if (text[i] != '\n') text[i] = ' ';
      return meta;
    }
    if (!line.empty() && !line.starts_with("#")) {
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos || !is_key(line.substr(0, colon))) return std::nullopt;
      pairs.emplace_back(line.substr(0, colon), unquote(line.substr(colon + 1)));
    }
    pos = end + 1;
  }
  return std::nullopt;
}

std::optional<RoundupMetadata> read_sidecar(std::string_view bytes, std::string_view name,
                                            std::vector<std::string>& warnings) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception&) {
    warnings.push_back(std::string(name) + " is not valid JSON; ignored");
    return std::nullopt;
  }
  if (!j.is_object()) {
    warnings.push_back(std::string(name) + " must hold a JSON object; ignored");
    return std::nullopt;
  }
  RoundupMetadata meta;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      warnings.push_back(std::string(name) + ": '" + utf8_prefix(key, 40) + "' must be a string; ignored");
      continue;
    }
    set_key(meta, key, trim(value.get<std::string>()), name, warnings);
  }
  return meta;
}

void apply(const RoundupMetadata& meta, Roundup& roundup) {
  if (meta.title) roundup.title = *meta.title;
  if (meta.month) {
    roundup.month = *meta.month;
    roundup.month_source = MonthSource::metadata;
  }
  if (meta.source_url) roundup.source_url = *meta.source_url;
  if (meta.language) roundup.language = *meta.language;
}

}  // namespace

bool is_roundup_file_name(std::string_view file_name) {
  if (file_name.empty() || file_name.front() == '.') return false;
  const std::string ext = extension_of(file_name);
  return ext == ".txt" || ext == ".md" || ext == ".markdown" || ext == ".html" || ext == ".htm";
}

std::string sidecar_name(std::string_view file_name) {
  return std::filesystem::path(std::string(file_name)).stem().string() + ".meta.json";
}

RoundupRead read_roundup(std::string_view id, std::string_view file_name, std::string_view bytes,
                         std::optional<std::string_view> sidecar) {
  RoundupRead out;
  const std::string ext = extension_of(file_name);
  std::optional<RoundupMetadata> front_matter;
  if (ext == ".html" || ext == ".htm") {
    out.format = "html";
    const HtmlDocument page = parse_html_page(bytes);
    out.parse = parse_roundup_text(id, page.markdown);
    Roundup& roundup = out.parse.roundup;
    if (!page.title.empty()) roundup.title = page.title;
    if (!page.canonical_url.empty()) roundup.source_url = page.canonical_url;
    // The page's own publication date beats months its text mentions (related posts, archives).
    if (auto month = month_of(page.published.substr(0, std::min<std::size_t>(page.published.size(), 7)))) {
      roundup.month = *month;
      roundup.month_source = MonthSource::page;
    }
  } else {
    out.format = ext == ".txt" ? "text" : "markdown";
    std::string text(bytes);
    front_matter = take_front_matter(text, out.warnings);
    out.parse = parse_roundup_text(id, text);
  }
  if (front_matter) apply(*front_matter, out.parse.roundup);
  if (sidecar) {
    if (auto meta = read_sidecar(*sidecar, sidecar_name(file_name), out.warnings)) apply(*meta, out.parse.roundup);
  }
  return out;
}

}  // namespace roundup::retrieval
