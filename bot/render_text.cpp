#include "bot/render_text.h"

namespace roundup::bot {

namespace {

std::string roundup_label(const PaperCitation& c) {
  std::string out;
  for (const RoundupCitation& r : c.roundups) {
    if (!out.empty()) out += "; ";
    out += r.title;
    if (!r.month.empty()) out += " (" + r.month + ")";
  }
  return out;
}

void render_citation(std::string& out, const std::string& bullet, const PaperCitation& c, bool with_summary) {
  out += bullet + c.title;
  if (!c.authors.empty()) out += " — " + c.authors;
  out += "\n";
  const std::string indent(bullet.size(), ' ');
  const std::string label = roundup_label(c);
  if (!label.empty()) out += indent + "Roundup: " + label + "\n";
  if (!c.url.empty()) out += indent + c.url + "\n";
  if (with_summary && !c.summary.empty()) out += indent + c.summary + "\n";
}

}  // namespace

std::string render_text(const Answer& answer) {
  std::string out;
  if (!answer.heading.empty()) out += "**" + answer.heading + "**\n";
  for (const std::string& line : answer.lines) out += line + "\n";
  const bool listing = answer.is_listing();
  if (!answer.citations.empty()) {
    // A model's [n] markers stay as typed: the sources below are numbered in marker order.
    out += listing ? "\n" : answer.citations.size() > 1 ? "\nSources:\n" : "\nSource:\n";
    for (std::size_t i = 0; i < answer.citations.size(); ++i)
      render_citation(out, std::to_string(i + 1) + ". ", answer.citations[i], listing);
  }
  if (!answer.related.empty()) {
    out += "\nRelated:\n";
    for (const PaperCitation& c : answer.related) render_citation(out, "- ", c, false);
  }
  if (!answer.suggestions.empty()) {
    for (const std::string& s : answer.suggestions) out += "  " + s + "\n";
  }
  return out;
}

}  // namespace roundup::bot
