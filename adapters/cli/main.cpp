// roundup-bot: wires the configuration, the knowledge base and the adapters. Exit codes: 0
// success, 2 usage or configuration error, 1 runtime failure.

#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "adapters/cli/inspect.h"
#include "adapters/cli/json_output.h"
#include "adapters/cli/library.h"
#include "adapters/cli/runtime.h"
#include "adapters/service/service.h"
#include "adapters/terminal/terminal_chat.h"
#include "bot/digest_scheduler.h"
#include "bot/render_text.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "telemetry/log.h"

namespace {

using namespace roundup;

// Text from files and arguments may hold invalid UTF-8: it is printed replaced, not refused.
void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

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
  for (const retrieval::FileSummary& s : r.summaries) {
    out << "  " << s.name << ": " << s.papers << " papers, " << s.listed_papers << " listed, " << s.news_and_tools
        << " news/tools, " << s.passages << " unstructured passages; month "
        << (s.month.empty() ? "unknown" : s.month + " (" + retrieval::to_string(s.month_source) + ")") << "\n";
  }
  out << "roundups: " << r.roundups << "\npapers: " << r.papers << "\nitems: " << r.items
      << "\npassages: " << r.passages << " (" << r.passages_embedded << " embedded, "
      << (r.passages - r.passages_embedded) << " reused)\n";
  if (!r.previous_index_note.empty()) out << "previous index not reused: " << r.previous_index_note << "\n";
  out << "time: " << r.seconds << " s\n";
}

// `config check`: every problem with its key path, exit 2; or a short summary of what will run.
int check_config(const std::string& file, std::ostream& out) {
  const auto getenv_fn = [](const char* name) -> const char* { return std::getenv(name); };
  const auto problems = config::check_config(file, getenv_fn);
  if (!problems.empty()) throw config::ConfigError(problems);
  const config::Config config = load(file);
  out << "configuration OK" << (file.empty() ? " (defaults)" : ": " + file) << "\n";
  out << "  listen: " << config.listen << (config.metrics_listen.empty() ? "" : ", metrics: " + config.metrics_listen)
      << "\n";
  out << "  slack: " << (config.slack.enabled ? config.slack.mode + " mode" : "off") << "\n";
  out << "  telegram: " << (config.telegram.enabled ? config.telegram.mode + " mode" : "off") << "\n";
  out << "  digest: " << config.digest.time << " " << config.digest.timezone << ", " << config.digest.channels.size()
      << " configured channel(s)\n";
  out << "  admins: " << config.admins.size() << "\n";
  return 0;
}

// `digest --dry-run`: what each channel would get next, from the state database when there is
// one (which papers it already had), never writing to it.
int print_digest_preview(const adapters::cli::Runtime& runtime, const std::string& channel, std::ostream& out) {
  const config::Config& config = runtime.config();
  const auto engine = runtime.engine(std::cerr);
  const std::filesystem::path state_file = config.data_dir / "state" / "bot.sqlite";
  std::unique_ptr<bot::StateStore> store;
  if (std::filesystem::exists(state_file)) {
    try {
      store = std::make_unique<storage::SqliteStateStore>(state_file, storage::SqliteStateStore::Access::read_only);
    } catch (const bot::StateError& e) {
      std::cerr << "warning: " << e.what() << "; previewing without the channels' history\n";
    }
  }
  if (!store) store = std::make_unique<storage::SqliteStateStore>(":memory:");
  const auto no_render = [](const std::string&, const bot::Answer&, const std::string&) {
    return std::vector<bot::OutgoingMessage>{};
  };
  bot::DigestScheduler scheduler(
      *store, [engine] { return std::shared_ptr<const retrieval::Catalog>(engine, &engine->catalog()); },
      {{"slack", no_render}, {"telegram", no_render}}, bot::digest_settings(config.digest), {});
  std::vector<std::string> channels = channel.empty() ? scheduler.channels() : std::vector<std::string>{channel};
  if (channels.empty()) {
    out << "(no digest channels are configured or subscribed; showing what a new channel would get)\n\n";
    channels.emplace_back("preview:new");
  }
  for (const std::string& c : channels) {
    if (channels.size() > 1 || !channel.empty()) out << "== " << c << " ==\n";
    out << bot::render_text(scheduler.preview(c)) << "\n";
  }
  return 0;
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
  ask_cmd->add_flag("--json", ask_as_json, "JSON output: answered, confidence, reason, text, citations");
  ask_cmd->add_option("question", question_words, "The question")->required();
  auto* chat_cmd = app.add_subcommand("chat", "Talk to the bot in the terminal");
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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (serve_cmd->parsed()) block_shutdown_signals();
  try {
    if (config_check_cmd->parsed()) return check_config(config_file, std::cout);
    if (inspect_cmd->parsed()) {
      const config::Config config = load(config_file);
      const auto read =
          adapters::cli::read_roundup_file(inspect_file, static_cast<std::uintmax_t>(config.retrieval.max_file_bytes));
      const std::string name = std::filesystem::path(inspect_file).filename().string();
      if (inspect_as_json) {
        print_json(adapters::cli::inspection_json(name, read));
      } else {
        adapters::cli::print_inspection(name, read, std::cout);
      }
      return 0;
    }
    adapters::cli::Runtime runtime(load(config_file));
    for (const std::string& w : runtime.warnings()) std::cerr << "warning: " << w << "\n";

    if (index_cmd->parsed()) {
      print_report(runtime.reindex(std::cerr), std::cout);
      return 0;
    }
    if (papers_cmd->parsed()) {
      const auto engine = runtime.engine(std::cerr);
      const auto papers = adapters::cli::papers_json(engine->catalog());
      if (papers_as_json) {
        print_json(papers);
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
        print_json(adapters::cli::search_json(query, response, engine->catalog()));
      } else {
        bot::Responder responder(engine, {k, runtime.config().retrieval.min_confidence});
        std::cout << bot::render_text(responder.search(query));
      }
      return 0;
    }
    if (ask_cmd->parsed()) {
      const bot::Responder responder = runtime.responder(std::cerr);
      const std::string question = join_words(question_words);
      const bot::Answer answer = responder.ask(question);
      if (ask_as_json) {
        print_json(adapters::cli::ask_json(question, answer));
      } else {
        std::cout << bot::render_text(answer);
      }
      return 0;
    }
    if (serve_cmd->parsed()) {
      // Before the index is opened (or built): a wrong token should not wait for that.
      if (auto problems = config::check_runnable(runtime.config()); !problems.empty()) {
        throw config::ConfigError(std::move(problems));
      }
      log::set_level(log::parse_level(runtime.config().log_level));
      log::set_format(runtime.config().log_format == "json" ? log::Format::json : log::Format::logfmt);
      auto library = std::make_shared<adapters::cli::Library>(std::move(runtime));
      library->open(std::cerr);
      return adapters::service::run_service(library->runtime().config(), library);
    }
    if (digest_cmd->parsed()) {
      if (!digest_channel.empty() && !config::parse_qualified_id(digest_channel)) {
        std::cerr << "error: --channel must look like \"slack:C0123\" or \"telegram:-1001234\"\n";
        return 2;
      }
      return print_digest_preview(runtime, digest_channel, std::cout);
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
