#pragma once
// The commands of `roundup-bot`, one function each; adapters/cli/main.cpp parses the command line
// and calls one. Each reads the configuration the same way (load_configuration) and assembles what
// it needs: the Runtime (index and answers), or for `serve` the Library and the Service.
// Return values are exit codes: 0 success, 2 usage or configuration error, 1 runtime failure;
// configuration and index errors are thrown (config::ConfigError, retrieval::IndexError).

#include <ostream>
#include <string>
#include <vector>

#include "config/config.h"

namespace roundup::adapters::cli {

// The file (or the defaults when `config_file` is empty), read with the built-in platforms'
// sections, then the environment.
config::Config load_configuration(const std::string& config_file);

// `config check`: every problem with its key path (thrown as ConfigError), or a short summary.
int check_configuration(const std::string& config_file, std::ostream& out);
// `inspect FILE [--json]`: what the parser reads from one roundup file.
int inspect(const std::string& config_file, const std::string& file, bool as_json, std::ostream& out);
// `index`: build or refresh the index; the report on `out`.
int index(const std::string& config_file, std::ostream& out);
// `papers [--json]`.
int papers(const std::string& config_file, bool as_json, std::ostream& out);
// `search [--json] [--top-k N] QUERY...`; top_k 0: the configuration's.
int search(const std::string& config_file, const std::vector<std::string>& query_words, int top_k, bool as_json,
           std::ostream& out);
// `ask [--json] QUESTION...`.
int ask(const std::string& config_file, const std::vector<std::string>& question_words, bool as_json,
        std::ostream& out);
// `digest --dry-run [--channel C]`.
int digest_preview(const std::string& config_file, const std::string& channel, std::ostream& out);
// `chat`: the terminal conversation on stdin/stdout; `as_json`: one ask_json object per reply,
// each on one line.
int chat(const std::string& config_file, bool as_json);
// `serve`: the service until SIGTERM. SIGINT and SIGTERM must be blocked already (main.cpp).
int serve(const std::string& config_file);
// `state export FILE`: every record of the configured state store, as JSON Lines in the portable
// schema (bot::transfer_tables), written to FILE atomically. Reads only.
int export_state(const std::string& config_file, const std::string& file, std::ostream& out);
// `state import FILE [--force]`: writes FILE's records into the configured state store (created
// and migrated when missing) in one transaction. Refuses a store that holds records unless
// `replace` (then it is emptied first).
int import_state(const std::string& config_file, const std::string& file, bool replace, std::ostream& out);

}  // namespace roundup::adapters::cli
