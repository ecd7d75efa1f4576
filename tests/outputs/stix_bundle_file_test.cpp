// The file output's stix_bundle format: one STIX bundle that grows per
// batch, replaced atomically, kept across restarts.
#include "outputs/stix_bundle_file.hpp"

#include <atomic>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "engine/json.hpp"
#include "outputs/file_output.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs {
namespace {

using slipway::testing::read_file;
using slipway::testing::TempDir;
using slipway::testing::write_file;

constexpr std::string_view kIdentity =
    R"({"type":"identity","spec_version":"2.1","id":"identity--8c1c9ba4-d4c7-55b8-8ea9-d0f8fc0fa5a1",)"
    R"("created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","name":"slipway"})";

// A bundle as the stix filter emits it: the identity and one indicator.
std::string bundle(int number) {
  return fmt::format(R"({{"type":"bundle","id":"bundle--00000000-0000-5000-8000-{:012}","objects":[{},)"
                     R"({{"type":"indicator","spec_version":"2.1","id":"indicator--00000000-0000-5000-8000-{:012}",)"
                     R"("created":"2024-04-09T10:00:00.000Z","modified":"2024-04-09T10:00:00.000Z",)"
                     R"("pattern":"[ipv4-addr:value = '192.0.2.{}']","pattern_type":"stix",)"
                     R"("valid_from":"2024-04-09T10:00:00.000Z"}}]}})",
                     number, kIdentity, number, number % 250);
}

BatchPtr batch_of(const std::vector<std::string>& events) {
  auto batch = std::make_shared<Batch>();
  for (const std::string& text : events) {
    batch->events.push_back(Event{text, {}});
  }
  return batch;
}

class StixBundleFileTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> make_output(const std::string& yaml, config::Errors& errors) {
    node_ = YAML::Load(yaml);
    const std::string context = "output \"bundle\" (file)";
    config::check_against_schema(node_, FileOutputConfig::kSchema, context, "test.yaml", "", errors);
    return FileOutput::create(config::Section(node_, &FileOutputConfig::kSchema, context, "test.yaml"), errors);
  }

  std::unique_ptr<Output> start_output() {
    config::Errors errors;
    auto output = make_output(fmt::format("path: {}\nformat: stix_bundle\n", path_.string()), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    output->start(context_);
    return output;
  }

  // The ids of the objects in the file, which must be one STIX bundle.
  std::vector<std::string> ids_in_file() const {
    json::ParseResult parsed = json::parse(read_file(path_));
    EXPECT_TRUE(parsed.value.has_value()) << parsed.error;
    std::vector<std::string> ids;
    if (!parsed.value) {
      return ids;
    }
    EXPECT_EQ(parsed.value->find("type")->as_string(), "bundle");
    for (const json::Value& object : parsed.value->find("objects")->items()) {
      ids.push_back(object.find("id")->as_string());
    }
    return ids;
  }

  TempDir dir_;
  std::filesystem::path path_ = dir_ / "STIX_data.json";
  YAML::Node node_;
  OutputContext context_{ComponentKind::Output, "bundle", "file",
                         std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
                         dir_.path(), nullptr};
};

// Batches add their objects to the one bundle; the shared identity appears once.
TEST_F(StixBundleFileTest, GrowsOneBundleAcrossBatches) {
  auto output = start_output();

  EXPECT_EQ(output->deliver(batch_of({bundle(1), bundle(2)}), context_).status, DeliveryStatus::Delivered);
  EXPECT_EQ(output->deliver(batch_of({bundle(3), bundle(2)}), context_).status, DeliveryStatus::Delivered);

  const std::vector<std::string> ids = ids_in_file();
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids[0], "identity--8c1c9ba4-d4c7-55b8-8ea9-d0f8fc0fa5a1");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 4u);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "STIX_data.json.tmp"));
}

// A restart keeps the objects already in the file and its bundle id.
TEST_F(StixBundleFileTest, KeepsObjectsAcrossRestart) {
  start_output()->deliver(batch_of({bundle(1)}), context_);
  const std::string first_text = read_file(path_);

  start_output()->deliver(batch_of({bundle(1), bundle(2)}), context_);

  EXPECT_EQ(ids_in_file().size(), 3u);
  const std::string bundle_id = first_text.substr(first_text.find("bundle--"), 44);
  EXPECT_NE(read_file(path_).find(bundle_id), std::string::npos);
}

// A file that is not a STIX bundle stops the start instead of being overwritten.
TEST_F(StixBundleFileTest, RejectsFileThatIsNotBundle) {
  write_file(path_, "{\"alerts\": []}\n");
  config::Errors errors;
  auto output = make_output(fmt::format("path: {}\nformat: stix_bundle\n", path_.string()), errors);

  try {
    output->start(context_);
    FAIL() << "start() accepted a file that is not a bundle";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("exists but is not a STIX bundle"), std::string::npos) << error.what();
  }
  EXPECT_EQ(read_file(path_), "{\"alerts\": []}\n");
}

// An event that is not STIX is reported for the dead-letter file; the rest is written.
TEST_F(StixBundleFileTest, ReportsEventThatIsNotStix) {
  auto output = start_output();

  const DeliveryResult result = output->deliver(batch_of({bundle(1), R"({"Format":"IDEA0","ID":"x"})"}), context_);

  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0].index, 1u);
  EXPECT_FALSE(result.failures[0].retryable);
  EXPECT_EQ(ids_in_file().size(), 2u);
}

// A reader polling the file while batches arrive always finds a whole bundle.
TEST_F(StixBundleFileTest, ReaderNeverSeesPartialFile) {
  auto output = start_output();
  output->deliver(batch_of({bundle(0)}), context_);
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::atomic<int> broken{0};
  std::thread reader([&] {
    while (writing.load()) {
      const std::string text = read_file(path_);
      broken += json::parse(text).value.has_value() ? 0 : 1;
      ++reads;
    }
  });

  for (int number = 1; number <= 150; ++number) {
    output->deliver(batch_of({bundle(number)}), context_);
  }
  writing = false;
  reader.join();

  EXPECT_EQ(broken.load(), 0);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(ids_in_file().size(), 152u);
}

TEST_F(StixBundleFileTest, RejectsKeysItDoesNotUse) {
  config::Errors errors;
  make_output(fmt::format("path: {}\nformat: stix_bundle\ncolumns: [ID]\n", path_.string()), errors);

  EXPECT_EQ(errors.format(),
            "test.yaml:3:10: output \"bundle\" (file): key \"columns\": not used by format stix_bundle, which writes "
            "one bundle and forces each replacement to disk; remove it\n");
}

}  // namespace
}  // namespace slipway::outputs
