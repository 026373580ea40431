#include "adapters/cli/commands.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "adapters/cli/inspect.h"
#include "adapters/cli/json_output.h"
#include "adapters/cli/library.h"
#include "adapters/cli/runtime.h"
#include "adapters/model/answering.h"
#include "adapters/service/service.h"
#include "adapters/service/state_backend.h"
#include "adapters/terminal/terminal_chat.h"
#include "bot/digest_scheduler.h"
#include "bot/render_text.h"
#include "bot/state_store.h"
#include "storage/sqlite_state_store.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"

namespace roundup::adapters::cli {

config::Config load_configuration(const std::string& config_file) {
  auto sections = adapters::service::builtin_platform_sections();
  config::Config config = config_file.empty() ? config::default_config(std::move(sections))
                                              : config::load_config(config_file, std::move(sections));
  const config::EnvironmentLookup getenv_fn = [](const char* name) -> const char* { return std::getenv(name); };
  config::apply_environment(config, getenv_fn);
  config::resolve_default_paths(config, config::default_places(getenv_fn, config::running_executable()));
  return config;
}

namespace {

// Text from files and arguments may hold invalid UTF-8: it is printed replaced, not refused.
void print_json(const nlohmann::json& value, std::ostream& out) {
  out << value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string join_words(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
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

// `digest --dry-run`: what each channel would get next, from the state database when there is
// one (which papers it already had), never writing to it.
int print_digest_preview(const Runtime& runtime, const std::string& channel, std::ostream& out) {
  const config::Config& config = runtime.config();
  const auto engine = runtime.engine(std::cerr);
  std::unique_ptr<bot::StateStore> store;
  if (service::state_exists(config)) {
    try {
      store = service::open_state_store(config, service::StateAccess::read_only);
    } catch (const bot::StateError& e) {
      std::cerr << "warning: " << e.what() << "; previewing without the channels' history\n";
    }
  }
  if (!store) store = std::make_unique<storage::SqliteStateStore>(":memory:");
  const auto no_render = [](const std::string&, const bot::Answer&, const std::string&) {
    return std::vector<bot::OutgoingMessage>{};
  };
  std::map<std::string, bot::PostRenderer> renderers;
  for (const config::PlatformSection& section : config.platforms.sections()) renderers[section.name] = no_render;
  bot::DigestScheduler scheduler(
      *store, [engine] { return std::shared_ptr<const retrieval::Catalog>(engine, &engine->catalog()); },
      std::move(renderers), bot::digest_settings(config.digest), {});
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

// Runtime with its warnings printed, as every index-using command starts.
Runtime open_runtime(const std::string& config_file) {
  Runtime runtime(load_configuration(config_file));
  for (const std::string& w : runtime.warnings()) std::cerr << "warning: " << w << "\n";
  return runtime;
}

}  // namespace

int check_configuration(const std::string& file, std::ostream& out) {
  const auto getenv_fn = [](const char* name) -> const char* { return std::getenv(name); };
  const auto problems = config::check_config(file, getenv_fn, adapters::service::builtin_platform_sections());
  if (!problems.empty()) throw config::ConfigError(problems);
  const config::Config config = load_configuration(file);
  out << "configuration OK" << (file.empty() ? " (defaults)" : ": " + file) << "\n";
  out << "  listen: " << config.listen << (config.metrics_listen.empty() ? "" : ", metrics: " + config.metrics_listen)
      << "\n";
  for (const config::PlatformSection& section : config.platforms.sections()) {
    out << "  " << section.name << ": " << section.summary(*config.platforms.find(section.name)) << "\n";
  }
  out << "  digest: " << config.digest.time << " " << config.digest.timezone << ", " << config.digest.channels.size()
      << " configured channel(s)\n";
  out << "  admins: " << config.admins.size() << "\n";
  out << "  state: " << service::describe_state(config) << "\n";
  out << "  llm: " << config::llm_summary(config) << "\n";
  return 0;
}

int inspect(const std::string& config_file, const std::string& file, bool as_json, std::ostream& out) {
  const config::Config config = load_configuration(config_file);
  const auto read = read_roundup_file(file, static_cast<std::uintmax_t>(config.retrieval.max_file_bytes));
  const std::string name = std::filesystem::path(file).filename().string();
  if (as_json) {
    print_json(inspection_json(name, read), out);
  } else {
    print_inspection(name, read, out);
  }
  return 0;
}

int index(const std::string& config_file, std::ostream& out) {
  Runtime runtime = open_runtime(config_file);
  print_report(runtime.reindex(std::cerr), out);
  return 0;
}

int papers(const std::string& config_file, bool as_json, std::ostream& out) {
  Runtime runtime = open_runtime(config_file);
  const auto engine = runtime.engine(std::cerr);
  const auto papers = papers_json(engine->catalog());
  if (as_json) {
    print_json(papers, out);
  } else {
    for (const auto& p : papers) out << p["title"].get<std::string>() << "\n  " << p["url"].get<std::string>() << "\n";
  }
  return 0;
}

int search(const std::string& config_file, const std::vector<std::string>& query_words, int top_k, bool as_json,
           std::ostream& out) {
  Runtime runtime = open_runtime(config_file);
  const auto engine = runtime.engine(std::cerr);
  const std::string query = join_words(query_words);
  const std::size_t k =
      top_k > 0 ? static_cast<std::size_t>(top_k) : static_cast<std::size_t>(runtime.config().retrieval.top_k);
  const retrieval::SearchResponse response = engine->search(query, k);
  if (as_json) {
    print_json(search_json(query, response, engine->catalog()), out);
  } else {
    bot::Responder responder(engine, {k, runtime.config().retrieval.min_confidence});
    out << bot::render_text(responder.search(query));
  }
  return 0;
}

int ask(const std::string& config_file, const std::vector<std::string>& question_words, bool as_json,
        std::ostream& out) {
  auto library = std::make_shared<Library>(open_runtime(config_file));
  library->open(std::cerr);
  const auto knowledge = model::with_language_model(library, library->runtime().config(), telemetry::metrics());
  const std::string question = join_words(question_words);
  const bot::Answer answer = knowledge->answer(question);
  if (as_json) {
    print_json(ask_json(question, answer), out);
  } else {
    out << bot::render_text(answer);
  }
  return 0;
}

int digest_preview(const std::string& config_file, const std::string& channel, std::ostream& out) {
  Runtime runtime = open_runtime(config_file);
  if (!channel.empty() && !config::parse_qualified_id(channel, runtime.config().platforms.sections())) {
    std::cerr << "error: --channel must look like "
              << config::channel_id_examples(runtime.config().platforms.sections()) << "\n";
    return 2;
  }
  return print_digest_preview(runtime, channel, out);
}

int chat(const std::string& config_file, bool as_json) {
  auto library = std::make_shared<Library>(open_runtime(config_file));
  library->open(std::cerr);
  const auto knowledge = model::with_language_model(library, library->runtime().config(), telemetry::metrics());
  if (!as_json) return run_terminal_chat(*knowledge, std::cin, std::cout, ::isatty(STDIN_FILENO) != 0);
  // One `ask --json` object per reply, each on one line, for scripts.
  return run_terminal_chat(
      *knowledge, std::cin, std::cout, /*interactive=*/false, [](std::string_view message, const bot::Answer& answer) {
        return ask_json(message, answer).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      });
}

int serve(const std::string& config_file) {
  Runtime runtime = open_runtime(config_file);
  // Before the index is opened (or built): a wrong token should not wait for that.
  if (auto problems = config::check_runnable(runtime.config()); !problems.empty()) {
    throw config::ConfigError(std::move(problems));
  }
  // A service without its lexicon answers Chinese questions about English summaries (and the
  // reverse) worse, and would rebuild a shared index without it: refused unless asked for.
  if (!runtime.warnings().empty() && runtime.config().retrieval.require_lexicon) {
    throw config::ConfigError(
        std::vector<config::ConfigProblem>{{"retrieval.lexicon_dir",
                                            "the lexicon is missing or unreadable (see the warnings above): run "
                                            "scripts/fetch-lexicon.sh, point retrieval.lexicon_dir at it, or set "
                                            "retrieval.require_lexicon to false to serve without it"}});
  }
  log::set_level(log::parse_level(runtime.config().log_level));
  log::set_format(runtime.config().log_format == "json" ? log::Format::json : log::Format::logfmt);
  auto library = std::make_shared<Library>(std::move(runtime));
  library->open(std::cerr);
  const config::Config& config = library->runtime().config();
  return service::run_service(config, model::with_language_model(library, config, telemetry::metrics()));
}

}  // namespace roundup::adapters::cli
