// Reading one section of a Slips configuration file the way Slips' config
// parser reads it: typed values with a note for a value of the wrong type,
// and a note for every key no version of Slips reads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "engine/slips_settings.hpp"

namespace slipway::slips {

class Section {
 public:
  // `node` may be undefined or null: every key is then missing.
  Section(YAML::Node node, std::string name) : node_(std::move(node)), name_(std::move(name)) {}

  bool exists() const { return node_.IsDefined() && node_.IsMap(); }
  // True when the key is present with a value other than null.
  bool has(std::string_view key) const;
  YAML::Node node(std::string_view key) const;
  // "section.key", as notes name a setting.
  std::string setting(std::string_view key) const { return name_ + "." + std::string(key); }

  // The value's text; nothing when missing, or (with a note) when it is a list or mapping.
  std::optional<std::string> text(std::string_view key, std::vector<Note>& notes) const;
  // A YAML boolean (true, false, yes, no, on, off); nothing when missing,
  // or (with a note) when it is something else.
  std::optional<bool> flag(std::string_view key, std::vector<Note>& notes) const;
  // A number; nothing when missing, or (with a note) when it is not one.
  std::optional<double> number(std::string_view key, std::vector<Note>& notes) const;

  // Adds a note for each key not in `known`.
  void note_unknown_keys(const std::vector<std::string_view>& known, std::string_view reader,
                         std::vector<Note>& notes) const;

 private:
  YAML::Node node_;
  std::string name_;
};

// Slips reads relative paths against its working directory, normally the
// directory it is installed in. Taking that as the directory above the
// configuration file's `config/` directory, or else the file's own
// directory, returns the absolute path and notes the assumption.
std::string resolve_slips_path(const std::string& value, const std::filesystem::path& slips_file,
                               const std::string& setting, std::vector<Note>& notes);

}  // namespace slipway::slips
