#pragma once
// What the index builder (retrieval/index_builder.cpp) writes and the knowledge base
// (retrieval/knowledge_base.cpp) reads: the generation directory `current` links to, the SQLite
// options of kb.sqlite, and roundups stored as JSON in it. Internal to retrieval/.

#include <nlohmann/json.hpp>

#include "retrieval/corpus.h"
#include "storage/sqlite.h"

namespace roundup::retrieval::index_layout {

// data_dir/index/current: a symlink to the generation being served.
inline constexpr const char* k_current = "current";

// kb.sqlite's connection: serialized (every worker thread reads it), SQLite errors as IndexError.
storage::Database::Options database_options(storage::Database::Mode mode);

nlohmann::json roundup_to_json(const Roundup& roundup);
// Throws nlohmann::json::exception when `stored` is not what roundup_to_json wrote.
Roundup roundup_from_json(const nlohmann::json& stored);

}  // namespace roundup::retrieval::index_layout
