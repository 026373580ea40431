#include "retrieval/index_layout.h"

#include <string>

#include "retrieval/knowledge_base.h"

namespace roundup::retrieval::index_layout {

using nlohmann::json;

namespace {

[[noreturn]] void raise_index_error(const std::string& message) {
  throw IndexError(message);
}

ItemKind kind_from(const std::string& s) {
  if (s == "listed_paper") return ItemKind::listed_paper;
  if (s == "news") return ItemKind::news;
  if (s == "tool") return ItemKind::tool;
  if (s == "passage") return ItemKind::passage;
  return ItemKind::paper;
}

}  // namespace

storage::Database::Options database_options(storage::Database::Mode mode) {
  // Serialized: the index is read from every worker thread (one connection, SQLite's own mutex).
  storage::Database::Options options;
  options.mode = mode;
  options.serialized = true;
  options.raise = raise_index_error;
  return options;
}

json roundup_to_json(const Roundup& r) {
  json items = json::array();
  for (const Item& it : r.items) {
    items.push_back({{"kind", to_string(it.kind)},
                     {"title", it.title},
                     {"authors", it.authors},
                     {"url", it.url},
                     {"links", it.links},
                     {"arxiv_id", it.arxiv_id ? json(*it.arxiv_id) : json(nullptr)},
                     {"summary", it.summary},
                     {"ordinal", it.ordinal},
                     {"lines", {it.first_line, it.last_line}}});
  }
  return {{"id", r.id},
          {"title", r.title},
          {"month", r.month},
          {"month_source", to_string(r.month_source)},
          {"source_url", r.source_url},
          {"author", r.author},
          {"language", r.language},
          {"items", std::move(items)}};
}

Roundup roundup_from_json(const json& j) {
  Roundup r;
  r.id = j.at("id").get<std::string>();
  r.title = j.at("title").get<std::string>();
  r.month = j.at("month").get<std::string>();
  const std::string ms = j.at("month_source").get<std::string>();
  r.month_source = MonthSource::unknown;
  for (MonthSource source :
       {MonthSource::text, MonthSource::arxiv_ids, MonthSource::metadata, MonthSource::page, MonthSource::unknown})
    if (ms == to_string(source)) r.month_source = source;
  r.source_url = j.at("source_url").get<std::string>();
  r.author = j.at("author").get<std::string>();
  r.language = j.at("language").get<std::string>();
  for (const json& ji : j.at("items")) {
    Item it;
    it.kind = kind_from(ji.at("kind").get<std::string>());
    it.title = ji.at("title").get<std::string>();
    it.authors = ji.at("authors").get<std::vector<std::string>>();
    it.url = ji.at("url").get<std::string>();
    it.links = ji.at("links").get<std::vector<std::string>>();
    if (!ji.at("arxiv_id").is_null()) it.arxiv_id = ji.at("arxiv_id").get<std::string>();
    it.summary = ji.at("summary").get<std::string>();
    it.ordinal = ji.at("ordinal").get<int>();
    it.first_line = ji.at("lines").at(0).get<int>();
    it.last_line = ji.at("lines").at(1).get<int>();
    r.items.push_back(std::move(it));
  }
  return r;
}

}  // namespace roundup::retrieval::index_layout
