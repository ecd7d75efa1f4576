// The warden input through the real engine: it polls a loopback Warden 3
// server that requires a client certificate, and its events land in a
// JSON-lines file, so restarts and checkpoints are the engine's own.
#include "inputs/warden/warden_input.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "config/pipeline_config.hpp"
#include "engine/pipeline.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/warden_test_server.hpp"

namespace slipway::inputs::warden {
namespace {

using slipway::testing::count_lines;
using slipway::testing::read_file;
using slipway::testing::TempDir;
using slipway::testing::TestPki;
using slipway::testing::wait_until;
using slipway::testing::WardenCall;
using slipway::testing::WardenTestServer;

constexpr auto kWaitTimeout = std::chrono::seconds(30);
constexpr std::string_view kClientName = "cz.example.slips";
constexpr std::string_view kClientHost = "sensor1.example.cz";

std::string event(int record, std::string_view category = "Recon.Scanning") {
  return fmt::format(R"({{"Format":"IDEA0","ID":"00000030-2222-4000-8000-{:012}","DetectTime":"2024-04-09T10:00:00Z",)"
                     R"("Category":["{}"],"Source":[{{"IP4":["198.51.100.{}"]}}],)"
                     R"("Node":[{{"Name":"cz.other.sensor","Type":["Honeypot"]}}]}})",
                     record, category, record);
}

std::string event_id(int record) { return fmt::format("00000030-2222-4000-8000-{:012}", record); }

class WardenInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = slipway::testing::make_test_pki(dir_.path(), kClientHost);
    if (!pki_) {
      GTEST_SKIP() << "the openssl command is not available";
    }
    WardenTestServer::Options options;
    options.clients.push_back({std::string(kClientName), std::string(kClientHost), "", false});
    options.get_events_limit = 1000;
    server_ = std::make_unique<WardenTestServer>(*pki_, std::move(options));
    ASSERT_TRUE(server_->ready());
  }

  // The warden input `feed`, configured by `input_yaml` (indented by 4),
  // written to a JSON-lines file.
  std::string pipeline_yaml(const std::string& input_yaml = "") const {
    return fmt::format(R"(
data_dir: {data}
shutdown_timeout_secs: 2
inputs:
  feed:
    type: warden
    url: {url}
    client: {client}
    cert_file: {cert}
    key_file: {key}
    ca_file: {ca}
    poll_interval_ms: 100
{input}
outputs:
  archive:
    type: file
    from: [feed]
    path: {out}
    format: json
)",
                       fmt::arg("data", (dir_ / "data").string()), fmt::arg("url", server_->url()),
                       fmt::arg("client", kClientName), fmt::arg("cert", pki_->client.cert_file.string()),
                       fmt::arg("key", pki_->client.key_file.string()), fmt::arg("ca", pki_->ca_file.string()),
                       fmt::arg("input", input_yaml), fmt::arg("out", output_path().string()));
  }

  std::unique_ptr<Pipeline> start(const std::string& yaml) {
    config::Errors errors;
    const auto loaded = config::load_pipeline_text(yaml, "test.yaml", {}, errors);
    EXPECT_TRUE(loaded.has_value()) << errors.format();
    auto pipeline = loaded ? Pipeline::build(*loaded, errors) : nullptr;
    EXPECT_NE(pipeline, nullptr) << errors.format();
    if (pipeline != nullptr) {
      pipeline->start();
    }
    return pipeline;
  }

  static void stop(Pipeline& pipeline) {
    pipeline.request_stop();
    pipeline.wait();
  }

  std::vector<WardenCall> get_calls() const {
    std::vector<WardenCall> calls;
    for (const WardenCall& call : server_->calls()) {
      if (call.method == "getEvents") {
        calls.push_back(call);
      }
    }
    return calls;
  }

  std::filesystem::path output_path() const { return dir_ / "out" / "events.json"; }

  TempDir dir_;
  std::optional<TestPki> pki_;
  std::unique_ptr<WardenTestServer> server_;
};

// The first start begins at the server's newest event, and a restart
// resumes after the last event delivered, asking with that id: nothing is
// fetched twice and nothing sent while the input was down is missed.
TEST_F(WardenInputTest, ResumesFromCursorAfterRestart) {
  for (int record = 1; record <= 3; ++record) {
    server_->add_event(event(record), "cz.other.sensor");
  }

  auto first = start(pipeline_yaml());
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(wait_until([&] { return !get_calls().empty(); }, kWaitTimeout));
  server_->add_event(event(4), "cz.other.sensor");
  server_->add_event(event(5), "cz.other.sensor");
  ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) == 2; }, kWaitTimeout));
  stop(*first);
  first.reset();
  EXPECT_EQ(get_calls().front().query.count("id"), 0u) << "the first call asks for the newest id";

  server_->add_event(event(6), "cz.other.sensor");
  server_->add_event(event(7), "cz.other.sensor");
  const std::size_t calls_before_restart = get_calls().size();
  auto second = start(pipeline_yaml());
  ASSERT_NE(second, nullptr);
  ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) >= 4; }, kWaitTimeout));
  stop(*second);

  const std::string output = read_file(output_path());
  EXPECT_EQ(count_lines(output_path()), 4u);
  for (int record = 1; record <= 7; ++record) {
    const bool expected = record >= 4;
    EXPECT_EQ(output.find(event_id(record)) != std::string::npos, expected) << record;
  }
  const WardenCall resumed = get_calls()[calls_before_restart];
  ASSERT_EQ(resumed.query.count("id"), 1u);
  EXPECT_EQ(resumed.query.at("id").front(), "5");
}

// count, categories and tags reach the server as getEvents parameters, and
// a full reply is followed by the next call at once.
TEST_F(WardenInputTest, PassesCountAndFilters) {
  server_->add_event(event(100), "cz.other.sensor");
  auto pipeline = start(pipeline_yaml("    count: 2\n    categories: [Recon.Scanning, Attempt]\n    tags: [Honeypot]\n"));
  ASSERT_NE(pipeline, nullptr);
  ASSERT_TRUE(wait_until([&] { return !get_calls().empty(); }, kWaitTimeout));
  for (int record = 1; record <= 5; ++record) {
    server_->add_event(event(record), "cz.other.sensor");
  }
  server_->add_event(event(6, "Malware.Virus"), "cz.other.sensor");
  server_->add_event(event(7, "Attempt.Login"), "cz.other.sensor");
  ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) == 6; }, kWaitTimeout));
  stop(*pipeline);

  const std::string output = read_file(output_path());
  EXPECT_EQ(output.find(event_id(6)), std::string::npos) << "Malware.Virus is not among the categories";
  const WardenCall call = get_calls().back();
  EXPECT_EQ(call.query.at("count"), std::vector<std::string>{"2"});
  EXPECT_EQ(call.query.at("cat"), (std::vector<std::string>{"Recon.Scanning", "Attempt"}));
  EXPECT_EQ(call.query.at("tag"), std::vector<std::string>{"Honeypot"});
  for (const WardenCall& each : get_calls()) {
    EXPECT_LE(each.events, 2u);
  }
}

// On a server that had no events at the first start, the events that
// arrive later are fetched, although the server reads id=0 as "newest".
TEST_F(WardenInputTest, FetchesEventsAfterStartOnEmptyServer) {
  auto pipeline = start(pipeline_yaml());
  ASSERT_NE(pipeline, nullptr);
  ASSERT_TRUE(wait_until([&] { return !get_calls().empty(); }, kWaitTimeout));
  server_->add_event(event(1), "cz.other.sensor");
  server_->add_event(event(2), "cz.other.sensor");
  ASSERT_TRUE(wait_until([&] { return count_lines(output_path()) == 2; }, kWaitTimeout));
  stop(*pipeline);

  const std::string output = read_file(output_path());
  EXPECT_NE(output.find(event_id(1)), std::string::npos);
  EXPECT_NE(output.find(event_id(2)), std::string::npos);
}

// A filter and its exclude_ counterpart cannot be combined.
TEST_F(WardenInputTest, RejectsFilterWithItsExclusion) {
  config::Errors errors;
  const auto loaded = config::load_pipeline_text(
      pipeline_yaml("    categories: [Recon]\n    exclude_categories: [Test]\n"), "test.yaml", {}, errors);
  if (loaded) {
    Pipeline::build(*loaded, errors);
  }
  EXPECT_NE(errors.format().find("input \"feed\" (warden): key \"exclude_categories\": cannot be combined with "
                                 "\"categories\"; keep one of them"),
            std::string::npos)
      << errors.format();
}

// A server that rejects the query marks the input degraded and keeps
// polling rather than stopping.
TEST_F(WardenInputTest, UnknownCategoryDegradesHealth) {
  auto pipeline = start(pipeline_yaml("    categories: [Recon.Nonsense]\n"));
  ASSERT_NE(pipeline, nullptr);
  ASSERT_TRUE(wait_until([&] { return get_calls().size() >= 2; }, kWaitTimeout));
  const HealthReport health = pipeline->health();
  stop(*pipeline);
  EXPECT_FALSE(health.healthy);
  EXPECT_NE(health.text.find("returned 422: Wrong tag or category used in query."), std::string::npos) << health.text;
}

}  // namespace
}  // namespace slipway::inputs::warden
