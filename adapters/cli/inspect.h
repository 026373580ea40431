#pragma once
// `roundup-bot inspect FILE`: what the parser read from one roundup file, so an operator can see
// (and correct, with metadata) what gets indexed before it is.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <ostream>

#include "retrieval/roundup_source.h"

namespace roundup::adapters::cli {

// Reads FILE and its sidecar (FILE's stem + ".meta.json" beside it). Throws std::runtime_error
// when the file cannot be read or is not UTF-8.
retrieval::RoundupRead read_roundup_file(const std::filesystem::path& file, std::uintmax_t max_file_bytes);

void print_inspection(const std::string& file_name, const retrieval::RoundupRead& read, std::ostream& out);
nlohmann::json inspection_json(const std::string& file_name, const retrieval::RoundupRead& read);

}  // namespace roundup::adapters::cli
