#include "filters/modify.hpp"

#include <gtest/gtest.h>

#include "tests/filters/filter_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::filters {
namespace {

using testing::batch_of;
using testing::RecordingContext;

constexpr const char* kContext = "filter \"tag\" (modify)";

class ModifyTest : public ::testing::Test {
 protected:
  std::unique_ptr<ModifyFilter> make(const std::string& yaml) {
    config::Errors errors;
    const testing::TestSettings settings = testing::settings_from(ModifyConfig::kSchema, yaml, kContext, errors);
    std::optional<ModifyConfig> config = ModifyConfig::parse(settings.section, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    return std::make_unique<ModifyFilter>(std::move(*config), clock_);
  }

  std::vector<std::string> errors_for(const std::string& yaml) {
    config::Errors errors;
    const testing::TestSettings settings = testing::settings_from(ModifyConfig::kSchema, yaml, kContext, errors);
    EXPECT_EQ(ModifyFilter::create(settings.section, errors), nullptr);
    return testing::problem_texts(errors);
  }

  std::shared_ptr<testing::FakeClock> clock_ = std::make_shared<testing::FakeClock>();
  RecordingContext context_;
};

// rename, copy, set and remove run in that order: set reads what rename
// and copy wrote, and remove deletes a member after copy read it.
TEST_F(ModifyTest, AppliesStepsInFixedOrder) {
  auto filter = make(R"(
remove: [Source]
set:
  summary: "{{ src_ip }} / {{ slips_note }}"
copy:
  Source[0].IP4[0]: src_ip
rename:
  Note: slips_note
)");
  filter->process(batch_of({R"({"ID":"a","Source":[{"IP4":["192.0.2.1"]}],"Note":"n"})"}), context_);

  EXPECT_EQ(context_.events(),
            (std::vector<std::string>{R"({"ID":"a","slips_note":"n","src_ip":"192.0.2.1","summary":"192.0.2.1 / n"})"}));
}

// A batch in which no event changes is forwarded as the same batch.
TEST_F(ModifyTest, ForwardsUnchangedBatch) {
  auto filter = make("remove: [Missing]\nset: {Status: Event}\n");
  const BatchPtr batch = batch_of({R"({"ID":"a", "Status": "Event"})"});

  filter->process(batch, context_);

  EXPECT_EQ(context_.forwarded_batches, 1u);
  ASSERT_EQ(context_.batches[""].size(), 1u);
  EXPECT_EQ(context_.batches[""][0], batch);
}

// Unchanged events keep their exact bytes even when others in their batch change.
TEST_F(ModifyTest, KeepsUnchangedEventsByteForByte) {
  auto filter = make("remove: [Attach]\n");
  const std::string unchanged = R"({ "ID" : "b",  "Confidence": 1.0 })";

  filter->process(batch_of({R"({"ID":"a","Attach":[]})", unchanged, R"({"ID":"c","Attach":[]})"}), context_);

  EXPECT_EQ(context_.events(), (std::vector<std::string>{R"({"ID":"a"})", unchanged, R"({"ID":"c"})"}));
  EXPECT_EQ(context_.forwarded_batches, 0u);
}

// Plain YAML scalars keep their type, quoted ones are strings, and
// templates read fields, times and the injected clock.
TEST_F(ModifyTest, SetsTypedValuesAndTemplates) {
  auto filter = make(R"(
set:
  count: 3
  ratio: 0.25
  flag: true
  nothing: null
  quoted: "3"
  ip: "{{ Source[0].IP4[0] }}"
  addresses: "{{ Source[0].IP4 }}"
  day: "{{ DetectTime | %Y-%m-%d }}"
  received_at: "{{ now | %Y-%m-%dT%H:%M:%SZ }}"
)");
  filter->process(batch_of({R"({"DetectTime":"2024-05-13T23:30:00-02:00","Source":[{"IP4":["192.0.2.1"]}]})"}),
                  context_);

  EXPECT_EQ(context_.events(),
            (std::vector<std::string>{
                R"({"DetectTime":"2024-05-13T23:30:00-02:00","Source":[{"IP4":["192.0.2.1"]}],"count":3,"ratio":0.25,)"
                R"("flag":true,"nothing":null,"quoted":"3","ip":"192.0.2.1","addresses":["192.0.2.1"],)"
                R"("day":"2024-05-14","received_at":"2024-04-09T10:00:00Z"})"}));
}

// New top-level members are appended to the event's own text, which keeps
// its bytes, also in an empty object.
TEST_F(ModifyTest, AppendsNewMembersToOriginalText) {
  auto filter = make("set: {sensor: lab-1, confidence_copy: \"{{ Confidence }}\"}\n");
  filter->process(batch_of({R"({ "ID" : "a", "Confidence": 1.0 } )", "{}"}), context_);

  EXPECT_EQ(context_.events(),
            (std::vector<std::string>{R"({ "ID" : "a", "Confidence": 1.0 ,"sensor":"lab-1","confidence_copy":1.0})",
                                      R"({"sensor":"lab-1"})"}));
  EXPECT_EQ(filter->counters().missing_fields.load(), 1u);
}

// Appending reads only the members a template names, however deep the value
// sits and whatever other members surround it.
TEST_F(ModifyTest, AppendedTemplateReadsNestedMember) {
  auto filter = make("set: {attacker: \"{{ Source[0].IP4[0] }}\"}\n");
  const std::string event =
      R"({"Note":"{\"a\":[1,{\"b\":\"}\"}]}","Source":[{"IP4":["10.0.0.1"]}],"Target":[{"IP4":["10.0.0.2"]}]})";

  filter->process(batch_of({event}), context_);

  EXPECT_EQ(context_.events(),
            (std::vector<std::string>{event.substr(0, event.size() - 1) + R"(,"attacker":"10.0.0.1"})"}));
}

// A member that exists already is replaced in place, and a template reads
// a value an earlier `set` entry wrote.
TEST_F(ModifyTest, ReplacesExistingMemberInPlace) {
  auto filter = make("set: {sensor: lab-1}\n");
  filter->process(batch_of({R"({"sensor": "old", "ID": "a"})"}), context_);
  EXPECT_EQ(context_.events(), (std::vector<std::string>{R"({"sensor":"lab-1","ID":"a"})"}));

  auto chained = make("set: {sensor: lab-1, label: \"seen by {{ sensor }}\"}\n");
  RecordingContext chained_context;
  chained->process(batch_of({R"({"ID": "a"})"}), chained_context);
  EXPECT_EQ(chained_context.events(),
            (std::vector<std::string>{R"({"ID":"a","sensor":"lab-1","label":"seen by lab-1"})"}));
}

// Targets may be nested: missing objects on the way are created.
TEST_F(ModifyTest, WritesNestedTargets) {
  auto filter = make("set: {slipway.sensor: lab-1}\ncopy: {\"Source[0].IP4[0]\": network.source.ip}\n");
  filter->process(batch_of({R"({"Source":[{"IP4":["192.0.2.1"]}]})"}), context_);

  EXPECT_EQ(context_.events(),
            (std::vector<std::string>{R"({"Source":[{"IP4":["192.0.2.1"]}],"network":{"source":{"ip":"192.0.2.1"}},)"
                                      R"("slipway":{"sensor":"lab-1"}})"}));
}

// A step whose source field is missing is skipped for that event and
// counted; the event passes unchanged.
TEST_F(ModifyTest, SkipsAndCountsMissingSources) {
  auto filter = make(R"(
rename: {Missing: a}
copy: {"Source[0].IP4[0]": b}
set: {c: "x {{ Target[0].IP4[0] }}"}
)");
  filter->process(batch_of({R"({"ID":"a"})"}), context_);

  EXPECT_EQ(context_.forwarded_batches, 1u);
  EXPECT_EQ(filter->counters().missing_fields.load(), 3u);
}

// A target below a value that is not an object is not written, and counted.
TEST_F(ModifyTest, CountsBlockedWrites) {
  auto filter = make("set: {Status.Code: 1}\n");
  filter->process(batch_of({R"({"Status":"Event"})"}), context_);

  EXPECT_EQ(context_.events(), (std::vector<std::string>{R"({"Status":"Event"})"}));
  EXPECT_EQ(filter->counters().type_mismatches.load(), 1u);
}

// A changed batch carries the acknowledgements of the batch it came from.
TEST_F(ModifyTest, KeepsAcknowledgements) {
  auto filter = make("set: {sensor: lab-1}\n");
  int commits = 0;
  auto tracker = std::make_shared<AckTracker>([&](const std::vector<CheckpointEntry>&) { ++commits; });

  filter->process(batch_of({R"({"ID":"a"})"}, {tracker->track(CheckpointEntry{"file", "1"})}), context_);
  ASSERT_EQ(context_.batches[""].size(), 1u);
  EXPECT_EQ(context_.batches[""][0]->acks.size(), 1u);
  EXPECT_EQ(commits, 0);
  context_.batches.clear();
  EXPECT_EQ(commits, 1);
}

// Of a member written twice in the source line, the last value is copied.
TEST_F(ModifyTest, CopiesLastDuplicateMember) {
  const auto path = slipway::testing::shared_path("cases/013-json-duplicate-keys/alerts.json");
  if (path.empty()) {
    GTEST_SKIP() << "the shared case files are not present beside the repository";
  }
  auto filter = make("copy: {\"Source[0].IP4[0]\": src_ip}\n");
  filter->process(batch_of(testing::read_lines(path)), context_);

  const std::vector<std::string> events = context_.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_NE(events[1].find(R"("src_ip":"192.0.2.2")"), std::string::npos) << events[1];
}

// Every mistake is reported in one run with its place and the fix.
TEST_F(ModifyTest, RejectsMistakes) {
  EXPECT_EQ(errors_for(R"(rename: {"Source[": a}
copy: {a: [b]}
set:
  ok: "{{ now | %Q }}"
  list: [1, 2]
remove: ["Source[0]"]
)"),
            (std::vector<std::string>{
                "test.yaml:1:10: filter \"tag\" (modify): key \"rename.Source[\": invalid field path \"Source[\": "
                "missing \"]\" after \"[\"",
                "test.yaml:2:11: filter \"tag\" (modify): key \"copy.a\": expected a target field path, got a list or "
                "mapping",
                "test.yaml:4:7: filter \"tag\" (modify): key \"set.ok\": invalid template \"{{ now | %Q }}\": unknown "
                "time conversion \"%Q\" in \"%Q\"; known: %Y %m %d %H %M %S %f %j %s %z %Z %F %T %%",
                "test.yaml:5:9: filter \"tag\" (modify): key \"set.list\": expected a string, number, boolean, null or "
                "template; lists and mappings cannot be set (a template must be quoted, as YAML reads {{ as the start "
                "of a mapping)",
                "test.yaml:6:10: filter \"tag\" (modify): key \"remove[0]\": \"Source[0]\" ends with an array index, "
                "but only object members can be removed"}));
}

// A modify filter without any step is a configuration error.
TEST_F(ModifyTest, RejectsEmptySettings) {
  EXPECT_EQ(errors_for("{}\n"),
            (std::vector<std::string>{"test.yaml:1:1: filter \"tag\" (modify): nothing to change; add at least one of "
                                      "rename, copy, set, remove"}));
  EXPECT_EQ(errors_for("set: [a]\n"),
            (std::vector<std::string>{"test.yaml:1:6: filter \"tag\" (modify): key \"set\": expected a mapping of "
                                      "target path: value"}));
}

}  // namespace
}  // namespace slipway::filters
