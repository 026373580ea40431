// roundup-bot: parses the command line and runs one command (adapters/cli/commands.h). Exit
// codes: 0 success, 2 usage or configuration error, 1 runtime failure.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "adapters/cli/commands.h"
#include "config/config.h"
#include "retrieval/knowledge_base.h"

namespace {

// SIGINT/SIGTERM are taken with sigwait() by the service; they must be blocked before any thread
// starts (the index build and FAISS's OpenMP pool start threads), or a thread that does not block
// them would get the default action: exit without draining.
void block_shutdown_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Roundup Bot: answers questions about monthly ML paper roundups"};
  app.require_subcommand(1);
  std::string config_file;
  app.add_option("--config", config_file, "JSON configuration file (optional)");
  // `roundup-bot serve --config F` and `roundup-bot config check --config F` read as naturally as
  // `roundup-bot --config F serve`.
  app.fallthrough();

  auto* index_cmd = app.add_subcommand("index", "Build or refresh the index from corpus_dir");
  std::string inspect_file;
  bool inspect_as_json = false;
  auto* inspect_cmd =
      app.add_subcommand("inspect", "Show what the parser reads from one roundup file (papers, items, skipped lines)");
  inspect_cmd->add_option("file", inspect_file, "A roundup file (.txt, .md, .html)")->required();
  inspect_cmd->add_flag("--json", inspect_as_json, "JSON output");
  bool papers_as_json = false;
  auto* papers_cmd = app.add_subcommand("papers", "List the papers the bot knows");
  papers_cmd->add_flag("--json", papers_as_json, "JSON output");
  bool search_as_json = false;
  int top_k = 0;
  std::vector<std::string> query_words;
  auto* search_cmd = app.add_subcommand("search", "Search the papers");
  search_cmd->add_flag("--json", search_as_json, "JSON output");
  search_cmd->add_option("--top-k", top_k, "Number of results")->check(CLI::Range(1, 200));
  search_cmd->add_option("query", query_words, "What to search for")->required();
  std::vector<std::string> question_words;
  auto* ask_cmd = app.add_subcommand("ask", "Answer one question, as the bot would reply");
  bool ask_as_json = false;
  ask_cmd->add_flag("--json", ask_as_json, "JSON output: answered, kind, confidence, reason, text, citations");
  ask_cmd->add_option("question", question_words, "The question")->required();
  auto* chat_cmd = app.add_subcommand("chat", "Talk to the bot in the terminal; follow-ups read the lines before");
  bool chat_as_json = false;
  chat_cmd->add_flag("--json", chat_as_json, "One message per input line; one ask --json object per reply, per line");
  auto* serve_cmd = app.add_subcommand("serve", "Run the bot service (webhooks, Socket Mode, health) until SIGTERM");
  auto* config_cmd = app.add_subcommand("config", "Work with the configuration");
  config_cmd->require_subcommand(1);
  auto* config_check_cmd =
      config_cmd->add_subcommand("check", "Validate the configuration (and environment) and list every problem");
  bool dry_run = false;
  std::string digest_channel;
  auto* digest_cmd = app.add_subcommand("digest", "Show the next daily digest");
  digest_cmd->add_flag("--dry-run", dry_run, "Print the next digest without posting it (required)")->required();
  digest_cmd->add_option("--channel", digest_channel,
                         "A channel as in digest.channels (\"slack:C0123\"); default: every configured and "
                         "subscribed channel");

  auto* state_cmd = app.add_subcommand("state", "Move the durable state between stores (SQLite, PostgreSQL)");
  state_cmd->require_subcommand(1);
  std::string state_file;
  bool replace_state = false;
  auto* export_cmd =
      state_cmd->add_subcommand("export", "Write every record of the configured state to FILE (JSON Lines)");
  export_cmd->add_option("file", state_file, "Where to write")->required();
  auto* import_cmd =
      state_cmd->add_subcommand("import", "Write FILE's records into the configured state (stop every serve first)");
  import_cmd->add_option("file", state_file, "A file written by `state export`")->required();
  import_cmd->add_flag("--force", replace_state, "Replace a state that already holds records");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (serve_cmd->parsed()) block_shutdown_signals();
  namespace cli = roundup::adapters::cli;
  try {
    if (config_check_cmd->parsed()) return cli::check_configuration(config_file, std::cout);
    if (inspect_cmd->parsed()) return cli::inspect(config_file, inspect_file, inspect_as_json, std::cout);
    if (index_cmd->parsed()) return cli::index(config_file, std::cout);
    if (papers_cmd->parsed()) return cli::papers(config_file, papers_as_json, std::cout);
    if (search_cmd->parsed()) return cli::search(config_file, query_words, top_k, search_as_json, std::cout);
    if (ask_cmd->parsed()) return cli::ask(config_file, question_words, ask_as_json, std::cout);
    if (serve_cmd->parsed()) return cli::serve(config_file);
    if (digest_cmd->parsed()) return cli::digest_preview(config_file, digest_channel, std::cout);
    if (chat_cmd->parsed()) return cli::chat(config_file, chat_as_json);
    if (export_cmd->parsed()) return cli::export_state(config_file, state_file, std::cout);
    if (import_cmd->parsed()) return cli::import_state(config_file, state_file, replace_state, std::cout);
  } catch (const roundup::config::ConfigError& e) {
    std::cerr << "configuration error" << (config_file.empty() ? "" : " in " + config_file) << ":\n"
              << e.what() << "\n";
    return 2;
  } catch (const roundup::retrieval::IndexError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
