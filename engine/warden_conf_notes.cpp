#include "engine/warden_conf_notes.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "engine/json.hpp"

namespace slipway::slips {

namespace {

// warden.conf is JSON in which lines starting with # or // are comments.
bool is_comment_line(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return false;
  }
  line.remove_prefix(first);
  return line.starts_with("#") || line.starts_with("//");
}

std::string setting(std::string_view key) { return fmt::format("warden.conf {}", key); }

void note_relative_files(const json::Value& conf, const std::filesystem::path& warden_conf,
                         std::vector<Note>& notes) {
  for (const std::string_view key : {"certfile", "keyfile"}) {
    const json::Value* value = conf.find(key);
    if (value == nullptr || !value->is_string() || std::filesystem::path(value->as_string()).is_absolute()) {
      continue;
    }
    notes.push_back({setting(key), fmt::format("Slips' Warden client reads \"{}\" in Slips' modules/cesnet/ "
                                               "directory; slipway reads it next to warden.conf, in {}",
                                               value->as_string(), warden_conf.parent_path().string())});
  }
}

}  // namespace

void note_warden_conf(const std::filesystem::path& warden_conf, std::vector<Note>& notes) {
  std::ifstream stream(warden_conf);
  if (!stream) {
    notes.push_back({"cesnet.configuration_file",
                     fmt::format("{} cannot be read ({}); validating or running this pipeline reads it, so put it "
                                 "there or pass --warden-conf",
                                 warden_conf.string(), std::strerror(errno))});
    return;
  }
  std::string text;
  for (std::string line; std::getline(stream, line);) {
    text += is_comment_line(line) ? "" : line;
    text += '\n';
  }
  const json::ParseResult parsed = json::parse(text);
  if (!parsed.value || !parsed.value->is_object()) {
    notes.push_back({"cesnet.configuration_file",
                     fmt::format("{} is not a JSON object, which the warden components need", warden_conf.string())});
    return;
  }

  const json::Value& conf = *parsed.value;
  note_relative_files(conf, warden_conf, notes);
  if (conf.find("cafile") != nullptr) {
    notes.push_back({setting("cafile"), "Slips' client ignores it and trusts the system's CA store; slipway verifies "
                                        "the server with this CA file, so it must be the CA of the server"});
  }
  for (const std::string_view key : {"errlog", "filelog", "syslog"}) {
    if (conf.find(key) != nullptr) {
      notes.push_back({setting(key), "not used: slipway logs the Warden calls in its own log"});
    }
  }
  if (conf.find("idstore") != nullptr) {
    notes.push_back({setting("idstore"), "not used: the warden input keeps the id of the last received event in "
                                         "its checkpoint in data_dir"});
  }
  for (const std::string_view key : {"retry", "pause"}) {
    if (conf.find(key) != nullptr) {
      notes.push_back({setting(key), "not used: the warden output retries failed calls with exponential backoff, "
                                     "as its retry settings set"});
    }
  }
}

}  // namespace slipway::slips
