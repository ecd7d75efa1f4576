// Shared set-up for the component tests of the file input. It builds the
// input from inline YAML the way the pipeline loader does, with the schema
// check before the factory. It runs the input on its own thread against
// files in a temp directory and keeps one checkpoint store across restarts.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "config/schema.hpp"
#include "engine/registry.hpp"
#include "tests/support/fake_input_context.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::inputs {

inline constexpr const char* kConfigFile = "pipeline.yaml";
inline constexpr const char* kConfigContext = "input \"alerts\" (file)";

// The lines of a file, without their LF.
inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const std::size_t end = text.find('\n', begin);
    if (end == std::string::npos) {
      lines.push_back(text.substr(begin));
      break;
    }
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) {
    text += line;
    text += '\n';
  }
  return text;
}

// "OFFSET:LINES" of a checkpoint value, without the prefix hash that a file
// shorter than the fingerprint length also stores.
inline std::string offset_and_lines(const std::string& value) {
  const std::size_t second_colon = value.find(':', value.find(':') + 1);
  return value.substr(0, second_colon);
}

// Lines of a file under the shared cases folder, or nothing when that folder is absent.
inline std::optional<std::vector<std::string>> case_lines(std::string_view relative) {
  const std::filesystem::path path = testing::shared_path(relative);
  if (path.empty()) {
    return std::nullopt;
  }
  return split_lines(testing::read_file(path));
}

// Writes through an already open descriptor, as a logger holding its file does.
inline void write_through(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    ASSERT_GT(written, 0);
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

// True when this process has a descriptor open on `path`.
inline bool has_open_descriptor(const std::filesystem::path& path) {
  const std::filesystem::path expected_target = std::filesystem::weakly_canonical(path);
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    const std::filesystem::path target = std::filesystem::read_symlink(entry.path(), error);
    if (!error && target == expected_target) {
      return true;
    }
  }
  return false;
}

// Index of each of `lines` in `texts`; fails the test for a line that is missing.
inline std::vector<std::ptrdiff_t> positions_of(const std::vector<std::string>& texts,
                                                const std::vector<std::string>& lines) {
  std::vector<std::ptrdiff_t> positions;
  for (const std::string& line : lines) {
    const auto found = std::find(texts.begin(), texts.end(), line);
    EXPECT_NE(found, texts.end()) << "not delivered: " << line.substr(0, 120);
    positions.push_back(found - texts.begin());
  }
  return positions;
}

class FileInputTest : public ::testing::Test {
 protected:
  // Builds the input as the loader would; nullptr when `errors` got any.
  std::unique_ptr<Input> build(const std::string& yaml, config::Errors& errors) {
    const ComponentType* type = Registry::instance().find(ComponentKind::Input, "file");
    EXPECT_NE(type, nullptr) << "the file input is not registered";
    if (type == nullptr) {
      return nullptr;
    }
    const YAML::Node node = YAML::Load(yaml);
    config::check_against_schema(node, *type->schema, kConfigContext, kConfigFile, "", errors);
    if (errors.has_errors()) {
      return nullptr;
    }
    std::unique_ptr<Input> input =
        type->make_input(config::Section(node, type->schema, kConfigContext, kConfigFile), errors);
    return errors.has_errors() ? nullptr : std::move(input);
  }

  // Starts a run of the input; runs started by one test share its checkpoint store.
  std::unique_ptr<testing::FakeInputContext> start(const std::string& yaml) {
    config::Errors errors;
    std::unique_ptr<Input> input = build(yaml, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    auto context = std::make_unique<testing::FakeInputContext>(work_dir_.path(), checkpoints_);
    if (input) {
      context->start(std::move(input));
    }
    return context;
  }

  // Settings for fast tests: short polls and rotate wait, batches sent at once.
  std::string settings(const std::string& pattern, const std::string& extra = "") const {
    return fmt::format("paths: [\"{}\"]\npoll_interval_ms: 5\nrotate_wait_ms: 200\nbatch_timeout_ms: 0\n{}", pattern,
                       extra);
  }

  std::filesystem::path watched(std::string_view name) const { return dir_ / name; }

  std::vector<std::string> dead_letters() const {
    return split_lines(testing::read_file(work_dir_ / "dead_letter.json"));
  }

  testing::TempDir dir_;       // the watched files
  testing::TempDir work_dir_;  // dead letters
  std::shared_ptr<testing::CheckpointMap> checkpoints_ = std::make_shared<testing::CheckpointMap>();
};

}  // namespace slipway::inputs
