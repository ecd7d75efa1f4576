#include "engine/slips_section.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace slipway::slips {

namespace {

std::string describe_kind(const YAML::Node& node) {
  if (node.IsSequence()) {
    return "a list";
  }
  if (node.IsMap()) {
    return "a mapping";
  }
  return fmt::format("\"{}\"", node.Scalar());
}

}  // namespace

bool Section::has(std::string_view key) const {
  if (!exists()) {
    return false;
  }
  const YAML::Node value = node_[std::string(key)];
  return value.IsDefined() && !value.IsNull();
}

YAML::Node Section::node(std::string_view key) const {
  if (!exists()) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return node_[std::string(key)];
}

std::optional<std::string> Section::text(std::string_view key, std::vector<Note>& notes) const {
  if (!has(key)) {
    return std::nullopt;
  }
  const YAML::Node value = node(key);
  if (!value.IsScalar()) {
    notes.push_back({setting(key), fmt::format("expected a single value, got {}; ignored", describe_kind(value))});
    return std::nullopt;
  }
  return value.Scalar();
}

std::optional<bool> Section::flag(std::string_view key, std::vector<Note>& notes) const {
  if (!has(key)) {
    return std::nullopt;
  }
  const YAML::Node value = node(key);
  bool parsed = false;
  if (value.IsScalar() && YAML::convert<bool>::decode(value, parsed)) {
    return parsed;
  }
  notes.push_back({setting(key), fmt::format("expected true or false, got {}; ignored", describe_kind(value))});
  return std::nullopt;
}

std::optional<double> Section::number(std::string_view key, std::vector<Note>& notes) const {
  if (!has(key)) {
    return std::nullopt;
  }
  const YAML::Node value = node(key);
  double parsed = 0;
  if (value.IsScalar() && YAML::convert<double>::decode(value, parsed)) {
    return parsed;
  }
  notes.push_back({setting(key), fmt::format("expected a number, got {}; ignored", describe_kind(value))});
  return std::nullopt;
}

void Section::note_unknown_keys(const std::vector<std::string_view>& known, std::string_view reader,
                                std::vector<Note>& notes) const {
  if (!exists()) {
    return;
  }
  for (const auto& member : node_) {
    const std::string key = member.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      notes.push_back({setting(key), fmt::format("not a setting {} reads; ignored", reader)});
    }
  }
}

std::string resolve_slips_path(const std::string& value, const std::filesystem::path& slips_file,
                               const std::string& setting, std::vector<Note>& notes) {
  const std::filesystem::path path(value);
  if (value.empty() || path.is_absolute()) {
    return value;
  }
  std::filesystem::path directory = std::filesystem::absolute(slips_file).lexically_normal().parent_path();
  if (directory.filename() == "config") {
    directory = directory.parent_path();
  }
  const std::string resolved = (directory / path).lexically_normal().string();
  notes.push_back({setting, fmt::format("Slips reads \"{}\" relative to its working directory; this pipeline names {}, "
                                        "assuming Slips runs from {}",
                                        value, resolved, directory.string())});
  return resolved;
}

}  // namespace slipway::slips
