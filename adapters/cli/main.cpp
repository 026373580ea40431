// roundup-bot: wires the configuration, the knowledge base and the adapters. Exit codes: 0
// success, 2 usage or configuration error, 1 runtime failure.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "adapters/cli/json_output.h"
#include "adapters/cli/runtime.h"
#include "adapters/service/service.h"
#include "adapters/terminal/terminal_chat.h"
#include "bot/log.h"
#include "bot/render_text.h"

namespace {

using namespace roundup;

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

config::Config load(const std::string& config_file) {
  config::Config config = config_file.empty() ? config::default_config() : config::load_config(config_file);
  config::apply_environment(config, [](const char* name) -> const char* { return std::getenv(name); });
  return config;
}

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

void print_report(const retrieval::BuildReport& r, std::ostream& out) {
  out << "files: " << r.files << " (" << r.files_added << " added, " << r.files_changed << " changed, "
      << r.files_removed << " removed, " << r.files_unchanged << " unchanged)\n";
  for (const auto& f : r.added) out << "  + " << f << "\n";
  for (const auto& f : r.changed) out << "  ~ " << f << "\n";
  for (const auto& f : r.removed) out << "  - " << f << "\n";
  out << "roundups: " << r.roundups << "\npapers: " << r.papers << "\nitems: " << r.items
      << "\npassages: " << r.passages << " (" << r.passages_embedded << " embedded, "
      << (r.passages - r.passages_embedded) << " reused)\n";
  if (!r.previous_index_note.empty()) out << "previous index not reused: " << r.previous_index_note << "\n";
  out << "time: " << r.seconds << " s\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Roundup Bot: answers questions about monthly ML paper roundups"};
  app.require_subcommand(1);
  std::string config_file;
  app.add_option("--config", config_file, "JSON configuration file (optional)");

  auto* index_cmd = app.add_subcommand("index", "Build or refresh the index from corpus_dir");
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
  ask_cmd->add_option("question", question_words, "The question")->required();
  auto* chat_cmd = app.add_subcommand("chat", "Talk to the bot in the terminal");
  auto* serve_cmd = app.add_subcommand("serve", "Run the bot service (webhooks, Socket Mode, health) until SIGTERM");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (serve_cmd->parsed()) block_shutdown_signals();
  try {
    app::Runtime runtime(load(config_file));
    for (const std::string& w : runtime.warnings()) std::cerr << "warning: " << w << "\n";

    if (index_cmd->parsed()) {
      print_report(runtime.reindex(std::cerr), std::cout);
      return 0;
    }
    if (papers_cmd->parsed()) {
      const auto engine = runtime.engine(std::cerr);
      const auto papers = app::papers_json(engine->catalog());
      if (papers_as_json) {
        std::cout << papers.dump(2) << "\n";
      } else {
        for (const auto& p : papers) {
          std::cout << p["title"].get<std::string>() << "\n  " << p["url"].get<std::string>() << "\n";
        }
      }
      return 0;
    }
    if (search_cmd->parsed()) {
      const auto engine = runtime.engine(std::cerr);
      const std::string query = join_words(query_words);
      const std::size_t k =
          top_k > 0 ? static_cast<std::size_t>(top_k) : static_cast<std::size_t>(runtime.config().retrieval.top_k);
      const retrieval::SearchResponse response = engine->search(query, k);
      if (search_as_json) {
        std::cout << app::search_json(query, response, engine->catalog()).dump(2) << "\n";
      } else {
        bot::Responder responder(engine, {k, runtime.config().retrieval.min_confidence});
        std::cout << bot::render_text(responder.search(query));
      }
      return 0;
    }
    if (ask_cmd->parsed()) {
      const bot::Responder responder = runtime.responder(std::cerr);
      std::cout << bot::render_text(responder.ask(join_words(question_words)));
      return 0;
    }
    if (serve_cmd->parsed()) {
      // Before the index is opened (or built): a wrong token should not wait for that.
      if (auto problems = config::check_runnable(runtime.config()); !problems.empty()) {
        throw config::ConfigError(std::move(problems));
      }
      log::set_level(log::parse_level(runtime.config().log_level));
      auto responder = std::make_shared<const bot::Responder>(runtime.responder(std::cerr));
      return app::run_service(runtime.config(),
                              [responder](std::string_view input) { return responder->handle(input); });
    }
    if (chat_cmd->parsed()) {
      const bot::Responder responder = runtime.responder(std::cerr);
      return adapters::run_terminal_chat(responder, std::cin, std::cout, ::isatty(STDIN_FILENO) != 0);
    }
  } catch (const config::ConfigError& e) {
    std::cerr << "configuration error" << (config_file.empty() ? "" : " in " + config_file) << ":\n"
              << e.what() << "\n";
    return 2;
  } catch (const retrieval::IndexError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 2;
}
