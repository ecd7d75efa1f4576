#include "filters/stix/stix_filter.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine/json.hpp"
#include "filters/idea/idea_normalize.hpp"
#include "filters/stix/stix_text.hpp"
#include "tests/filters/filter_test_support.hpp"
#include "tests/support/fake_filter_context.hpp"
#include "tests/support/stix_checks.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::filters {
namespace {

using slipway::testing::check_pattern;
using slipway::testing::check_stix_object;
using slipway::testing::FakeFilterContext;
using slipway::testing::shared_path;
using slipway::testing::TempDir;
using testing::problem_texts;
using testing::settings_from;

constexpr std::string_view kContext = "filter \"share\" (stix)";
constexpr std::string_view kAllObjects = "objects: [indicator, sighting, observed_data]";

json::Value parse_json(const std::string& text) {
  json::ParseResult result = json::parse(text);
  EXPECT_TRUE(result.value.has_value()) << result.error << " in " << text;
  return result.value.value_or(json::Value());
}

std::string text_of(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string("<missing>");
}

// A minimal IDEA0 record with `source` as its Source[0] object.
std::string idea_record(const std::string& id, const std::string& source, const std::string& extra = "") {
  return R"({"Format":"IDEA0","ID":")" + id +
         R"(","DetectTime":"2024-04-09T12:00:01.123456+02:00","EventTime":"2024-04-09T09:59:00.5Z",)"
         R"("Category":["Recon.Scanning"],"Confidence":0.87,"Description":"Horizontal port scan",)"
         R"("Source":[)" + source + "]" + extra + "}";
}

class StixFilterTest : public ::testing::Test {
 protected:
  std::unique_ptr<Filter> make(const std::string& yaml, config::Errors& errors) {
    testing::TestSettings settings =
        settings_from(StixFilter::kSchema, yaml.empty() ? "{}" : yaml, std::string(kContext), errors);
    return StixFilter::create(settings.section, errors);
  }

  std::unique_ptr<Filter> make(const std::string& yaml = "") {
    config::Errors errors;
    std::unique_ptr<Filter> filter = make(yaml, errors);
    EXPECT_FALSE(errors.has_errors()) << problem_texts(errors).front();
    return filter;
  }

  // Runs `lines` through a new stix filter built from `yaml`; returns the bundles.
  std::vector<json::Value> run(const std::vector<std::string>& lines, const std::string& yaml = "") {
    std::unique_ptr<Filter> filter = make(yaml);
    FakeFilterContext context(work_.path(), "stix");
    context.run(*filter, testing::batch_of(lines));
    dead_letters_ = context.dead_letter_lines();
    dropped_ = context.metrics().dropped_events.load();
    std::vector<json::Value> bundles;
    for (const std::string& text : context.event_texts()) {
      bundles.push_back(parse_json(text));
    }
    return bundles;
  }

  // The objects of `bundle` of one type.
  static std::vector<json::Value> objects_of(const json::Value& bundle, std::string_view type) {
    std::vector<json::Value> found;
    for (const json::Value& object : bundle.find("objects")->items()) {
      if (text_of(object, "type") == type) {
        found.push_back(object);
      }
    }
    return found;
  }

  TempDir work_;
  std::vector<std::string> dead_letters_;
  std::uint64_t dropped_ = 0;
};

// Every object built from a real Slips alerts.json, through idea_normalize
// and stix, has its required properties, a valid id, millisecond UTC
// timestamps and a pattern that follows the STIX grammar.
TEST_F(StixFilterTest, MapsRealAlertsToValidStix) {
  const std::filesystem::path fixture = shared_path("fixtures/slips/alerts-2023-02-20.json");
  if (fixture.empty()) {
    GTEST_SKIP() << "fixtures/slips/alerts-2023-02-20.json is not in the shared tree";
  }
  const std::vector<std::string> lines = testing::read_lines(fixture);
  ASSERT_EQ(lines.size(), 1731u);
  config::Errors errors;
  testing::TestSettings normalize_settings =
      settings_from(IdeaNormalize::kSchema, "{}", "filter \"norm\" (idea_normalize)", errors);
  std::unique_ptr<Filter> normalize = IdeaNormalize::create(normalize_settings.section, errors);
  FakeFilterContext normalize_context(work_ / "normalize", "idea_normalize");
  normalize_context.run(*normalize, testing::batch_of(lines));
  const std::vector<std::string> idea = normalize_context.event_texts();
  ASSERT_EQ(idea.size(), lines.size());

  const std::vector<json::Value> bundles = run(idea, std::string(kAllObjects));

  ASSERT_EQ(bundles.size() + dropped_, idea.size());
  EXPECT_TRUE(dead_letters_.empty());
  std::map<std::string, std::size_t> counts;
  std::set<std::string> indicator_ids;
  for (std::size_t bundle_idx = 0; bundle_idx < bundles.size(); ++bundle_idx) {
    const json::Value& bundle = bundles[bundle_idx];
    ASSERT_EQ(text_of(bundle, "type"), "bundle");
    EXPECT_EQ(bundle.find("spec_version"), nullptr) << "a 2.1 bundle has no spec_version";
    std::set<std::string> ids_in_bundle;
    for (const json::Value& object : bundle.find("objects")->items()) {
      const std::vector<std::string> problems = check_stix_object(object);
      EXPECT_TRUE(problems.empty()) << "bundle " << bundle_idx << " " << json::to_string(object) << ": "
                                    << problems.front();
      EXPECT_TRUE(ids_in_bundle.insert(text_of(object, "id")).second) << "repeated id in bundle " << bundle_idx;
      ++counts[text_of(object, "type")];
      if (text_of(object, "type") == "indicator") {
        EXPECT_TRUE(indicator_ids.insert(text_of(object, "id")).second) << "indicator id used twice";
      }
    }
  }
  EXPECT_EQ(counts["identity"], bundles.size());
  EXPECT_GE(counts["indicator"], bundles.size());
  EXPECT_EQ(counts["sighting"], counts["indicator"]);
  EXPECT_EQ(counts["observed-data"], bundles.size());
  EXPECT_GT(counts["ipv4-addr"], 0u);
}

// A second run over the same records yields byte-identical bundles, so a
// TAXII server that already has the objects stores nothing new.
TEST_F(StixFilterTest, RepeatsIdsForSameAlert) {
  const std::vector<std::string> lines = {
      idea_record("alert-1", R"({"IP4":["192.0.2.10"],"Hostname":["evil.example"]})"),
      idea_record("alert-2", R"({"IP4":["192.0.2.10"]})")};

  const std::vector<json::Value> first = run(lines, std::string(kAllObjects));
  const std::vector<json::Value> second = run(lines, std::string(kAllObjects));

  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_EQ(json::to_string(first[0]), json::to_string(second[0]));
  EXPECT_EQ(json::to_string(first[1]), json::to_string(second[1]));
  const std::string first_indicator = text_of(objects_of(first[0], "indicator")[0], "id");
  const std::string other_alert_indicator = text_of(objects_of(first[1], "indicator")[0], "id");
  EXPECT_NE(first_indicator, other_alert_indicator) << "ids derive from the alert ID too";
}

// One indicator per attacker value, each with the pattern of its type,
// and the Target (the victim) yields none.
TEST_F(StixFilterTest, BuildsOneIndicatorPerAttackerIoc) {
  const std::vector<json::Value> bundles =
      run({idea_record("a1",
                       R"({"IP4":["192.0.2.10"],"IP6":["2001:db8::1"],"Hostname":["evil.example"],)"
                       R"("URL":["http://evil.example/a"]},{"IP4":["192.0.2.10"]})",
                       R"(,"Target":[{"IP4":["198.51.100.7"]}])")});

  ASSERT_EQ(bundles.size(), 1u);
  std::vector<std::string> patterns;
  for (const json::Value& indicator : objects_of(bundles[0], "indicator")) {
    patterns.push_back(text_of(indicator, "pattern"));
  }
  EXPECT_EQ(patterns, (std::vector<std::string>{"[ipv4-addr:value = '192.0.2.10']", "[ipv6-addr:value = '2001:db8::1']",
                                                "[domain-name:value = 'evil.example']",
                                                "[url:value = 'http://evil.example/a']"}));
}

// Quotes and backslashes in a value are escaped, so a value cannot end its
// literal and add comparisons of its own.
TEST_F(StixFilterTest, EscapesPatternLiterals) {
  const std::string hostile = R"(http://x.example/a'] OR [ipv4-addr:value = '0.0.0.0/0'] AND [url:value = '\)";
  std::string source = R"({"URL":[)";
  json::append_quoted(hostile, source);
  source += "]}";

  const std::vector<json::Value> bundles = run({idea_record("a1", source)});

  ASSERT_EQ(bundles.size(), 1u);
  const std::vector<json::Value> indicators = objects_of(bundles[0], "indicator");
  ASSERT_EQ(indicators.size(), 1u);
  const slipway::testing::PatternCheck check = check_pattern(text_of(indicators[0], "pattern"));
  ASSERT_FALSE(check.error.has_value()) << *check.error;
  ASSERT_EQ(check.comparisons.size(), 1u);
  EXPECT_EQ(check.comparisons[0].object_path, "url:value");
  EXPECT_EQ(check.comparisons[0].value, hostile);
}

// An IDEA0 address range becomes the CIDR blocks that cover it exactly.
TEST_F(StixFilterTest, SplitsAddressRangeIntoBlocks) {
  const std::vector<json::Value> bundles =
      run({idea_record("a1", R"({"IP4":["192.0.2.1-192.0.2.6","10.0.0.0/8"],"IP6":["2001:db8::-2001:db8::ffff"]})")});

  ASSERT_EQ(bundles.size(), 1u);
  const std::vector<json::Value> indicators = objects_of(bundles[0], "indicator");
  ASSERT_EQ(indicators.size(), 3u);
  EXPECT_EQ(text_of(indicators[0], "pattern"),
            "[ipv4-addr:value ISSUBSET '192.0.2.1/32' OR ipv4-addr:value ISSUBSET '192.0.2.2/31' OR "
            "ipv4-addr:value ISSUBSET '192.0.2.4/31' OR ipv4-addr:value ISSUBSET '192.0.2.6/32']");
  EXPECT_EQ(text_of(indicators[1], "pattern"), "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
  EXPECT_EQ(text_of(indicators[2], "pattern"), "[ipv6-addr:value ISSUBSET '2001:db8::/112']");
  for (const json::Value& indicator : indicators) {
    EXPECT_TRUE(check_stix_object(indicator).empty()) << check_stix_object(indicator).front();
  }
}

// Times are converted to UTC, cut to milliseconds and end in Z; created
// comes from DetectTime and valid_from from EventTime.
TEST_F(StixFilterTest, WritesMillisecondUtcTimes) {
  const std::vector<json::Value> bundles = run({idea_record("a1", R"({"IP4":["192.0.2.10"]})")}, std::string(kAllObjects));

  ASSERT_EQ(bundles.size(), 1u);
  const json::Value indicator = objects_of(bundles[0], "indicator").at(0);
  EXPECT_EQ(text_of(indicator, "created"), "2024-04-09T10:00:01.123Z");
  EXPECT_EQ(text_of(indicator, "modified"), "2024-04-09T10:00:01.123Z");
  EXPECT_EQ(text_of(indicator, "valid_from"), "2024-04-09T09:59:00.500Z");
  const json::Value sighting = objects_of(bundles[0], "sighting").at(0);
  EXPECT_EQ(text_of(sighting, "first_seen"), "2024-04-09T09:59:00.500Z");
  EXPECT_EQ(text_of(sighting, "sighting_of_ref"), text_of(indicator, "id"));
}

// Name, description, confidence, indicator type and the sensor identity
// come from the record and the configuration.
TEST_F(StixFilterTest, FillsIndicatorProperties) {
  const std::vector<json::Value> bundles =
      run({idea_record("a1", R"({"IP4":["192.0.2.10"]})", R"(,"_Slips":{"EvidenceType":"HORIZONTAL_PORT_SCAN","ThreatLevel":"high"})")},
          "identity: {name: sensor-1, identity_class: system}");

  ASSERT_EQ(bundles.size(), 1u);
  const json::Value indicator = objects_of(bundles[0], "indicator").at(0);
  const json::Value identity = objects_of(bundles[0], "identity").at(0);
  EXPECT_EQ(text_of(indicator, "name"), "HORIZONTAL_PORT_SCAN");
  EXPECT_EQ(text_of(indicator, "description"), "Horizontal port scan");
  EXPECT_EQ(json::to_string(*indicator.find("confidence")), "87");
  EXPECT_EQ(json::to_string(*indicator.find("indicator_types")), R"(["malicious-activity"])");
  EXPECT_EQ(text_of(indicator, "x_slips_evidence_id"), "a1");
  EXPECT_EQ(text_of(indicator, "x_slips_threat_level"), "high");
  EXPECT_EQ(text_of(identity, "name"), "sensor-1");
  EXPECT_EQ(text_of(indicator, "created_by_ref"), text_of(identity, "id"));
}

// The observables carry the ids STIX derives from their values; the
// expected ids are those the OASIS stix2 library 3.0.1 gives these values.
TEST_F(StixFilterTest, DerivesObservableIdsAsStixDoes) {
  const std::vector<json::Value> bundles =
      run({idea_record("a1", R"({"IP4":["198.51.100.7"],"IP6":["2001:db8::1"],"Hostname":["evil.example"],)"
                             R"("URL":["http://evil.example/a"]})")},
          "objects: [indicator, observed_data]");

  ASSERT_EQ(bundles.size(), 1u);
  const json::Value observed = objects_of(bundles[0], "observed-data").at(0);
  EXPECT_EQ(json::to_string(*observed.find("object_refs")),
            R"(["ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db","ipv6-addr--6469e3a9-b053-5e34-a025-9396ae051d26",)"
            R"("domain-name--69228563-c8d2-54ae-aeca-5f4134cb59aa","url--c618f6dd-5ab7-5ef9-b8a4-be9e798ccae2"])");
  EXPECT_EQ(objects_of(bundles[0], "ipv4-addr").size(), 1u);
  EXPECT_TRUE(objects_of(bundles[0], "sighting").empty());
}

// A record without an attacker value is dropped and counted; a record
// that is not IDEA0 goes to the dead-letter file with the reason.
TEST_F(StixFilterTest, DropsOrDeadLettersUnusableRecords) {
  const std::vector<json::Value> bundles =
      run({R"({"Format":"IDEA0","ID":"a1","DetectTime":"2024-04-09T10:00:00Z","Category":["Recon.Scanning"]})",
           R"({"Version":"2.0.3","ID":"x"})"});

  EXPECT_TRUE(bundles.empty());
  EXPECT_EQ(dropped_, 1u);
  ASSERT_EQ(dead_letters_.size(), 1u);
  EXPECT_NE(dead_letters_[0].find("put idea_normalize before stix"), std::string::npos) << dead_letters_[0];
}

// A batch shared by several workers gives the same bundles, drops and dead letters, in order, as one worker.
TEST_F(StixFilterTest, SharedBatchKeepsRecordOrder) {
  std::vector<std::string> lines;
  for (int index = 0; index < 600; ++index) {
    std::string id = "a";
    id.append(std::to_string(index));
    if (index % 5 == 1) {
      lines.push_back(R"({"Format":"IDEA0","ID":")" + id + R"(","DetectTime":"2024-04-09T10:00:00Z"})");
    } else if (index % 5 == 2) {
      lines.push_back(R"({"Version":"2.0.3","ID":")" + id + R"("})");
    } else {
      lines.push_back(idea_record(id, R"({"IP4":["192.0.2.)" + std::to_string(index % 250) + R"("]})"));
    }
  }

  const std::vector<json::Value> one_worker = run(lines, "workers: 1");
  const std::vector<std::string> one_worker_dead_letters = dead_letters_;
  // Both runs write the same dead-letter file, so the second starts it anew.
  std::filesystem::remove(work_.path() / "dead_letter.json");
  const std::vector<json::Value> shared = run(lines, "workers: 3");

  ASSERT_EQ(shared.size(), 360u);
  ASSERT_EQ(one_worker.size(), shared.size());
  for (std::size_t index = 0; index < shared.size(); ++index) {
    EXPECT_EQ(json::to_string(shared[index]), json::to_string(one_worker[index])) << "bundle " << index;
  }
  EXPECT_EQ(dropped_, 120u);
  ASSERT_EQ(dead_letters_.size(), 120u);
  // Dead letters carry the time they were written, so only their record and reason are compared.
  ASSERT_EQ(one_worker_dead_letters.size(), dead_letters_.size());
  for (std::size_t index = 0; index < dead_letters_.size(); ++index) {
    const json::Value shared_letter = parse_json(dead_letters_[index]);
    const json::Value one_worker_letter = parse_json(one_worker_dead_letters[index]);
    EXPECT_EQ(text_of(shared_letter, "raw"), text_of(one_worker_letter, "raw")) << "dead letter " << index;
    EXPECT_EQ(text_of(shared_letter, "reason"), text_of(one_worker_letter, "reason")) << "dead letter " << index;
  }
  EXPECT_EQ(text_of(parse_json(dead_letters_[0]), "raw"), R"({"Version":"2.0.3","ID":"a2"})");
}

TEST_F(StixFilterTest, RejectsUnknownObjectKind) {
  config::Errors errors;
  make("objects: [indicator, relationship]", errors);

  ASSERT_EQ(problem_texts(errors).size(), 1u);
  EXPECT_EQ(problem_texts(errors)[0],
            "test.yaml:1:10: filter \"share\" (stix): key \"objects\": unknown object \"relationship\"; use "
            "indicator, sighting or observed_data");
}

TEST_F(StixFilterTest, RejectsObjectsWithoutIndicator) {
  config::Errors errors;
  make("objects: [sighting]", errors);

  ASSERT_EQ(problem_texts(errors).size(), 1u);
  EXPECT_EQ(problem_texts(errors)[0],
            "test.yaml:1:10: filter \"share\" (stix): key \"objects\": must include indicator, which the other "
            "objects refer to");
}

// The id and timestamp helpers produce and accept the STIX forms.
TEST(StixTextTest, FormatsIdsAndTimestamps) {
  stix::UuidV5 uuid;
  EXPECT_EQ(uuid.id("ipv4-addr", stix::kObservableNamespace, R"({"value":"198.51.100.7"})"),
            "ipv4-addr--12592121-be4c-5a93-a813-5a5af16e50db");
  std::string text;
  stix::append_timestamp(1'712'656'800'123'999, text);
  EXPECT_EQ(text, "2024-04-09T10:00:00.123Z");
  EXPECT_TRUE(stix::is_timestamp(text, 3));
  EXPECT_FALSE(stix::is_timestamp("2024-04-09T10:00:00.123+00:00", 3));
  EXPECT_FALSE(stix::is_timestamp("2024-04-09T10:00:00Z", 3));
  EXPECT_TRUE(stix::is_identifier("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"));
  EXPECT_FALSE(stix::is_identifier("indicator--8E2E2D2B-17d4-4cbf-938f-98ee46b3cd3f"));
}

// The test's own grammar check rejects the patterns STIX forbids.
TEST(StixPatternCheckTest, RejectsInvalidPatterns) {
  EXPECT_TRUE(check_pattern("[ipv4-addr:value = 198.51.100.7]").error.has_value());
  EXPECT_TRUE(check_pattern("[ipv4-addr:value = '198.51.100.7'").error.has_value());
  EXPECT_TRUE(check_pattern("[url:value = 'a'b']").error.has_value());
  EXPECT_TRUE(check_pattern(R"([url:value = 'a\n'])").error.has_value());
  EXPECT_TRUE(check_pattern("ipv4-addr:value = '1.2.3.4'").error.has_value());
  EXPECT_FALSE(check_pattern("[ipv4-addr:value ISSUBSET '198.51.100.0/24']").error.has_value());
  EXPECT_FALSE(check_pattern(R"([url:value = 'it\'s \\ here'] OR [domain-name:value = 'x'])").error.has_value());
}

}  // namespace
}  // namespace slipway::filters
