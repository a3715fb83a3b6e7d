// Value syntax of the Horizon yaml (spec §1.0): `;`-lists, per-channel numbers, closest-key suggestions, yaml->JSON.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace kaiwu::config::detail {

std::string trim(const std::string& s);
// Removes one pair of matching surrounding quotes (' or ").
std::string strip_quotes(const std::string& s);
// get_list_from_txt: strip quotes, drop one trailing `;`, split on `;`, trim; ''/'None' -> nullopt.
std::vector<std::optional<std::string>> split_input_list(const std::string& text);
// Splits on `sep_chars` and whitespace, dropping empty items.
std::vector<std::string> split_words(const std::string& text, const std::string& sep_chars);
// get_item_from_string: numbers separated by spaces or commas. False (with `bad`) on a non-number.
bool parse_numbers(const std::string& text, std::vector<double>* out, std::string* bad);
bool parse_int64(const std::string& text, int64_t* out);
// Levenshtein distance (case-insensitive).
int edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word`, or "" when none is reasonably close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
// "; did you mean 'x'?" or "".
std::string suggest(const std::string& word, const std::vector<std::string>& candidates);
// A yaml node as compact JSON (maps -> objects, plain scalars typed as bool/null/number, else strings).
std::string yaml_to_json(const YAML::Node& node);
// A number printed so that it parses back to the same double.
std::string format_number(double v);
// `s` as a single-quoted yaml scalar.
std::string yaml_quote(const std::string& s);

}  // namespace kaiwu::config::detail
