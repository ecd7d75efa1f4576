#include "filters/field_path.hpp"

#include <gtest/gtest.h>

namespace slipway::filters {
namespace {

json::Value document_of(const char* text) { return *json::parse(text).value; }

FieldPath path_of(const char* text) {
  std::string error;
  std::optional<FieldPath> path = FieldPath::parse(text, error);
  EXPECT_TRUE(path.has_value()) << text << ": " << error;
  return *path;
}

// Names, indexes and their mix resolve to the value they name, and to
// nothing when a step is missing or meets the wrong type.
TEST(FieldPathTest, FindsNestedValues) {
  const json::Value event =
      document_of(R"({"Status":"Event","Source":[{"IP4":["192.0.2.1","192.0.2.2"]}],"Analyzer":{"Name":"Slips"}})");

  EXPECT_EQ(path_of("Status").find(event)->as_string(), "Event");
  EXPECT_EQ(path_of("Source[0].IP4[1]").find(event)->as_string(), "192.0.2.2");
  EXPECT_EQ(path_of("Analyzer.Name").find(event)->as_string(), "Slips");
  EXPECT_EQ(path_of("Source[1].IP4[0]").find(event), nullptr);
  EXPECT_EQ(path_of("Status[0]").find(event), nullptr);
  EXPECT_EQ(path_of("Status.Name").find(event), nullptr);
  EXPECT_EQ(path_of("Missing").find(event), nullptr);
}

// Malformed paths are rejected with the reason.
TEST(FieldPathTest, RejectsMalformedPaths) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "the path is empty"},
      {"[0]", "a path starts with a member name, as events are objects"},
      {"Source[", "missing \"]\" after \"[\""},
      {"Source[x]", "index \"x\" is not a non-negative integer"},
      {"Source[-1]", "index \"-1\" is not a non-negative integer"},
      {"Source..IP4", "a member name is missing before \".\""},
      {"Source.", "the path ends with \".\""},
      {"Source]", "unexpected \"]\""},
      {"Source[0]IP4", "expected \".\" or \"[\" before \"IP4\""},
  };
  for (const auto& [text, expected] : cases) {
    std::string error;
    EXPECT_FALSE(FieldPath::parse(text, error).has_value()) << text;
    EXPECT_EQ(error, expected) << text;
  }
}

// Assigning creates missing objects on the way and keeps member order.
TEST(FieldPathTest, AssignCreatesNestedObjects) {
  json::Value event = document_of(R"({"ID":"a","Source":[{"IP4":["192.0.2.1"]}]})");

  EXPECT_TRUE(path_of("slipway.sensor.name").assign(event, json::Value::string("lab-1")));
  EXPECT_TRUE(path_of("Source[0].Hostname").assign(event, json::Value::string("host")));
  EXPECT_TRUE(path_of("ID").assign(event, json::Value::string("b")));

  EXPECT_EQ(json::to_string(event),
            R"({"ID":"b","Source":[{"IP4":["192.0.2.1"],"Hostname":"host"}],"slipway":{"sensor":{"name":"lab-1"}}})");
}

// A write that would pass through a scalar, or index past an array's end,
// fails without changing the event.
TEST(FieldPathTest, AssignFailsWithoutPartialChange) {
  json::Value event = document_of(R"({"Status":"Event","Source":[]})");
  const std::string before = json::to_string(event);

  EXPECT_FALSE(path_of("Status.Code").assign(event, json::Value::number(std::int64_t{1})));
  EXPECT_FALSE(path_of("Source[0].IP4").assign(event, json::Value::number(std::int64_t{1})));
  EXPECT_FALSE(path_of("New.List[0]").assign(event, json::Value::number(std::int64_t{1})));
  EXPECT_EQ(json::to_string(event), before);
}

// Erasing removes a nested member and reports whether it was there.
TEST(FieldPathTest, ErasesNestedMember) {
  json::Value event = document_of(R"({"Source":[{"IP4":["192.0.2.1"],"Port":[22]}]})");

  EXPECT_TRUE(path_of("Source[0].Port").erase(event));
  EXPECT_FALSE(path_of("Source[0].Port").erase(event));
  EXPECT_FALSE(path_of("Target[0].Port").erase(event));
  EXPECT_EQ(json::to_string(event), R"({"Source":[{"IP4":["192.0.2.1"]}]})");
}

}  // namespace
}  // namespace slipway::filters
