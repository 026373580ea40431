#pragma once
// The generic configuration reader: declarative section tables of (key, reader) pairs, the field
// readers (integers, numbers, choices, strings, secrets, paths, nested sections), and the problem
// list they report into. config/config.cpp declares the bot's tables with it; a platform adapter
// can declare its own section the same way.
//
// No problem message quotes a value from the file: a token pasted into the wrong key, or a
// malformed one, would be echoed to a terminal or a CI log. Messages name the key path (and for
// invalid JSON the line and column) and say what was expected.

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"

namespace roundup::config::schema {

using nlohmann::json;

class Problems {
 public:
  void add(std::string path, std::string message) {
    list_.push_back(ConfigProblem{std::move(path), std::move(message)});
  }
  bool empty() const { return list_.empty(); }
  std::vector<ConfigProblem>& list() { return list_; }

 private:
  std::vector<ConfigProblem> list_;
};

// "parent.key"; just "key" at the top level.
std::string join_path(std::string_view parent, std::string_view key);
// A JSON value's type in words ("integer", "floating-point number", "object").
std::string describe_type(const json& value);
// "expected <what>, got <JSON type>"; integers and floats are told apart (integer fields are strict).
std::string wrong_type(std::string_view expected, const json& value);
// The closest candidate when it is close enough to be a plausible typo of `word` (case ignored).
std::optional<std::string_view> closest_match(std::string_view word, std::span<const std::string_view> candidates);
// "http://..." or "https://..." with something after the scheme.
bool is_http_url(std::string_view url);
// "'a', 'b', 'c'".
std::string join_quoted(std::span<const std::string_view> words);

// ---------------------------------------------------------------------------
// Declarative section tables. Each section is a list of (key, reader) pairs
// plus an optional cross-field check; read_section() walks the document's keys,
// dispatches to readers and reports unknown keys generically. Adding a section
// (listen, slack, ...) means writing one table and one section_field() entry.

template <typename Section>
using FieldReader = std::function<void(const json& value, Section& out, const std::string& path, Problems& problems)>;

template <typename Section>
struct FieldSpec {
  std::string_view key;
  FieldReader<Section> read;
};

template <typename Section>
struct SectionSpec {
  std::vector<FieldSpec<Section>> fields;
  // Runs after all fields are read; for rules that span several keys.
  std::function<void(const Section& section, const std::string& path, Problems& problems)> validate;
};

template <typename Section>
void read_section(const json& node, Section& out, const std::string& path, const SectionSpec<Section>& spec,
                  Problems& problems) {
  if (!node.is_object()) {
    problems.add(path, wrong_type("object", node));
    return;
  }
  std::vector<std::string_view> known_keys;
  known_keys.reserve(spec.fields.size());
  for (const auto& field : spec.fields) known_keys.push_back(field.key);

  for (const auto& item : node.items()) {
    const std::string& key = item.key();
    const auto& value = item.value();
    const auto field = std::find_if(spec.fields.begin(), spec.fields.end(),
                                    [&key](const FieldSpec<Section>& f) { return f.key == key; });
    const std::string key_path = join_path(path, key);
    if (field == spec.fields.end()) {
      std::string message = "unknown key '" + key + "'";
      if (const auto suggestion = closest_match(key, known_keys)) {
        message += " (did you mean '" + std::string(*suggestion) + "'?)";
      }
      problems.add(key_path, std::move(message));
      continue;
    }
    field->read(value, out, key_path, problems);
  }
  if (spec.validate) spec.validate(out, path, problems);
}

// Integers must be JSON integers: 5.0 is rejected like 5.5 so a typo never
// silently truncates. nlohmann stores non-negative literals as unsigned, so
// both representations are range-checked without wrapping.
template <typename Section, typename Int>
FieldSpec<Section> integer_field(std::string_view key, Int Section::*member, Int min, Int max) {
  return {key, [member, min, max](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_number_integer()) {
              problems.add(path, wrong_type("integer", value));
              return;
            }
            bool in_range = false;
            if (value.is_number_unsigned()) {
              const auto number = value.get<std::uint64_t>();
              in_range = max >= 0 && number <= static_cast<std::uint64_t>(max) &&
                         (min < 0 || number >= static_cast<std::uint64_t>(min));
            } else {
              const auto number = value.get<std::int64_t>();
              in_range = number >= static_cast<std::int64_t>(min) && number <= static_cast<std::int64_t>(max);
            }
            if (!in_range) {
              problems.add(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
              return;
            }
            out.*member = value.get<Int>();
          }};
}

// Any JSON number is accepted for a real-valued field ("1" means 1.0).
template <typename Section>
FieldSpec<Section> number_field(std::string_view key, double Section::*member, double min, double max) {
  return {key, [member, min, max](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_number()) {
              problems.add(path, wrong_type("number", value));
              return;
            }
            const auto number = value.get<double>();
            if (!(number >= min && number <= max)) {
              problems.add(path, "must be between " + json(min).dump() + " and " + json(max).dump());
              return;
            }
            out.*member = number;
          }};
}

// number_field for a setting that may stay unset (it then defers to another setting).
template <typename Section>
FieldSpec<Section> optional_number_field(std::string_view key, std::optional<double> Section::*member, double min,
                                         double max) {
  struct Value {
    double number = 0;
  };
  const FieldReader<Value> read_number = number_field(key, &Value::number, min, max).read;
  return {key, [member, read_number](const json& value, Section& out, const std::string& path, Problems& problems) {
            const std::size_t before = problems.list().size();
            Value read;
            read_number(value, read, path, problems);
            if (problems.list().size() == before) out.*member = read.number;
          }};
}

template <typename Section, std::size_t N>
FieldSpec<Section> choice_field(std::string_view key, std::string Section::*member,
                                const std::array<std::string_view, N>& allowed) {
  const std::span<const std::string_view> choices(allowed);
  return {key, [member, choices](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_string()) {
              problems.add(path, wrong_type("string", value));
              return;
            }
            const auto& text = value.get_ref<const std::string&>();
            if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
              std::string message = "invalid value; expected one of " + join_quoted(choices);
              if (const auto suggestion = closest_match(text, choices)) {
                message += " (did you mean '" + std::string(*suggestion) + "'?)";
              }
              problems.add(path, std::move(message));
              return;
            }
            out.*member = text;
          }};
}

// Only JSON true and false: "yes", 1 or "false" are refused, so a typo never flips a switch.
template <typename Section>
FieldSpec<Section> boolean_field(std::string_view key, bool Section::*member) {
  return {key, [member](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_boolean()) {
              problems.add(path, wrong_type("boolean (true or false)", value));
              return;
            }
            out.*member = value.get<bool>();
          }};
}

template <typename Section>
FieldSpec<Section> path_field(std::string_view key, std::filesystem::path Section::*member) {
  return {key, [member](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_string()) {
              problems.add(path, wrong_type("string (a file system path)", value));
              return;
            }
            const auto& text = value.get_ref<const std::string&>();
            if (text.empty()) {
              problems.add(path, "must not be empty");
              return;
            }
            out.*member = std::filesystem::path(text);
          }};
}

// `spec` is a getter rather than a reference so tables can nest without
// depending on static initialisation order.
template <typename Section, typename Sub>
FieldSpec<Section> section_field(std::string_view key, Sub Section::*member, const SectionSpec<Sub>& (*spec)()) {
  return {key, [member, spec](const json& value, Section& out, const std::string& path, Problems& problems) {
            read_section(value, out.*member, path, spec(), problems);
          }};
}

template <typename Section>
FieldSpec<Section> string_field(std::string_view key, std::string Section::*member, bool allow_empty = false) {
  return {key, [member, allow_empty](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_string()) {
              problems.add(path, wrong_type("string", value));
              return;
            }
            const auto& text = value.get_ref<const std::string&>();
            if (text.empty() && !allow_empty) {
              problems.add(path, "must not be empty");
              return;
            }
            out.*member = text;
          }};
}

// Secrets are never echoed back in a problem message, only their path.
template <typename Section>
FieldSpec<Section> secret_field(std::string_view key, Secret Section::*member) {
  return {key, [member](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_string()) {
              problems.add(path, wrong_type("string", value));
              return;
            }
            (out.*member).value = value.get<std::string>();
          }};
}

// A string whose text must pass `problem_of` (the problem's message, or nullopt when fine).
template <typename Section>
FieldSpec<Section> checked_string_field(std::string_view key, std::string Section::*member, std::string_view expected,
                                        std::optional<std::string> (*problem_of)(const std::string& text)) {
  return {key,
          [member, expected, problem_of](const json& value, Section& out, const std::string& path, Problems& problems) {
            if (!value.is_string()) {
              problems.add(path, wrong_type(expected, value));
              return;
            }
            const auto& text = value.get_ref<const std::string&>();
            if (auto problem = problem_of(text)) {
              problems.add(path, std::move(*problem));
              return;
            }
            out.*member = text;
          }};
}

}  // namespace roundup::config::schema
