#include "filters/condition.hpp"

#include <gtest/gtest.h>

#include "tests/filters/filter_test_support.hpp"

namespace slipway::filters {
namespace {

constexpr const char* kEvent = R"({"ID":"a1","Status":"Incident","Severity":"High","Code":"42","Count":12,)"
                               R"("Confidence":0.8,"Big":9007199254740993,"Active":true,"Nothing":null,)"
                               R"("Category":["Recon.Scanning","Attempt.Login"],"Ports":[22,80],)"
                               R"("Source":[{"IP4":["192.168.1.113"]}],"Note":"{\"uids\": [\"C1\"]}"})";

struct MatchCase {
  const char* name;
  const char* condition;  // YAML flow mapping
  bool expected;
  std::uint64_t missing_fields = 0;
  std::uint64_t type_mismatches = 0;
};

// Reads one condition from YAML; every test here expects it to be valid.
Condition condition_from(const std::string& yaml) {
  const YAML::Node node = YAML::Load(yaml);
  config::Errors errors;
  const config::Section settings(node, nullptr, "filter \"gate\" (drop)", "test.yaml");
  std::optional<Condition> condition = Condition::parse(node, "condition", settings, errors);
  EXPECT_FALSE(errors.has_errors()) << errors.format();
  return std::move(*condition);
}

class ConditionMatchTest : public ::testing::TestWithParam<MatchCase> {};

// Each operator matches, misses, and counts missing fields and values of
// the wrong type as the table expects, without ever throwing.
TEST_P(ConditionMatchTest, MatchesAsTableExpects) {
  const MatchCase& test_case = GetParam();
  const Condition condition = condition_from(test_case.condition);
  const json::Value event = *json::parse(kEvent).value;
  MatchCounters counters;

  EXPECT_EQ(condition.matches(event, counters), test_case.expected) << test_case.condition;
  EXPECT_EQ(counters.missing_fields.load(), test_case.missing_fields) << test_case.condition;
  EXPECT_EQ(counters.type_mismatches.load(), test_case.type_mismatches) << test_case.condition;
}

const MatchCase kMatchCases[] = {
    {"EqualsString", "{field: Status, equals: Incident}", true},
    {"EqualsOtherString", "{field: Status, equals: Event}", false},
    {"EqualsNestedPath", "{field: \"Source[0].IP4[0]\", equals: 192.168.1.113}", true},
    {"EqualsPlainNumber", "{field: Count, equals: 12}", true},
    {"EqualsNumberNumerically", "{field: Count, equals: 12.0}", true},
    {"EqualsQuotedNumberIsString", "{field: Count, equals: \"12\"}", false},
    {"EqualsPlainNumberMatchesStringText", "{field: Code, equals: 42}", true},
    {"EqualsBoolean", "{field: Active, equals: true}", true},
    {"EqualsNull", "{field: Nothing, equals: null}", true},
    {"EqualsBeyondDoublePrecision", "{field: Big, equals: 9007199254740992}", false},
    {"EqualsOnArrayIsTypeMismatch", "{field: Category, equals: Recon.Scanning}", false, 0, 1},
    {"EqualsMissingField", "{field: Missing, equals: x}", false, 1, 0},
    {"InMatchesOneOfList", "{field: Severity, in: [Low, High]}", true},
    {"InMatchesNone", "{field: Severity, in: [Low, Medium]}", false},
    {"InNumbers", "{field: Count, in: [1, 12]}", true},
    {"InMissingField", "{field: Missing, in: [a]}", false, 1, 0},
    {"InOnArrayIsTypeMismatch", "{field: Category, in: [Attempt.Login]}", false, 0, 1},
    {"ContainsSubstring", "{field: Note, contains: uids}", true},
    {"ContainsArrayElement", "{field: Category, contains: Attempt.Login}", true},
    {"ContainsWholeElementsOnly", "{field: Category, contains: Attempt}", false},
    {"ContainsNumberElement", "{field: Ports, contains: 80}", true},
    {"ContainsOnNumberIsTypeMismatch", "{field: Count, contains: 1}", false, 0, 1},
    {"ContainsMissingField", "{field: Missing, contains: x}", false, 1, 0},
    {"PrefixMatches", "{field: \"Source[0].IP4[0]\", prefix: \"192.168.\"}", true},
    {"PrefixDiffers", "{field: \"Source[0].IP4[0]\", prefix: \"10.\"}", false},
    {"PrefixOnNumberIsTypeMismatch", "{field: Count, prefix: 1}", false, 0, 1},
    {"RegexMatchesAnywhere", "{field: Severity, regex: ig}", true},
    {"RegexAnchoredMisses", "{field: Severity, regex: \"^ig$\"}", false},
    {"RegexAnchoredMatches", "{field: Severity, regex: \"^(High|Critical)$\"}", true},
    {"RegexOnNumberIsTypeMismatch", "{field: Count, regex: \"1\"}", false, 0, 1},
    {"RegexMissingField", "{field: Missing, regex: x}", false, 1, 0},
    {"ExistsOnPresentField", "{field: Status, exists: true}", true},
    {"ExistsOnNullField", "{field: Nothing, exists: true}", true},
    {"ExistsOnMissingFieldIsNotCounted", "{field: Missing, exists: true}", false},
    {"NotExistsOnMissingField", "{field: Missing, exists: false}", true},
    {"ExistsOnIndexPastEnd", "{field: \"Source[3].IP4[0]\", exists: true}", false},
    {"GreaterThanFraction", "{field: Confidence, gt: 0.5}", true},
    {"GreaterThanEqualIsFalse", "{field: Confidence, gt: 0.8}", false},
    {"LessThanInteger", "{field: Confidence, lt: 1}", true},
    {"GreaterThanBeyondDoublePrecision", "{field: Big, gt: 9007199254740992}", true},
    {"GreaterThanOnStringIsTypeMismatch", "{field: Severity, gt: 1}", false, 0, 1},
    {"GreaterThanMissingField", "{field: Missing, gt: 1}", false, 1, 0},
    {"AllMatches", "{all: [{field: Status, equals: Incident}, {field: Count, gt: 10}]}", true},
    {"AllStopsAtFirstMiss", "{all: [{field: Status, equals: Event}, {field: Missing, gt: 10}]}", false},
    {"AnyMatchesSecond", "{any: [{field: Missing, equals: x}, {field: Count, lt: 13}]}", true, 1, 0},
    {"AnyStopsAtFirstMatch", "{any: [{field: Count, lt: 13}, {field: Missing, equals: x}]}", true},
    {"NotInverts", "{not: {field: Status, equals: Incident}}", false},
    {"NotOfMissingFieldMatches", "{not: {field: Missing, equals: x}}", true, 1, 0},
    {"NestedCombinators",
     "{all: [{any: [{field: Severity, equals: Low}, {field: Category, contains: Attempt.Login}]}, "
     "{not: {field: \"Source[0].IP4[0]\", prefix: \"10.\"}}]}",
     true},
};

INSTANTIATE_TEST_SUITE_P(ConditionOperators, ConditionMatchTest, ::testing::ValuesIn(kMatchCases),
                         [](const ::testing::TestParamInfo<MatchCase>& info) { return info.param.name; });

// A value that is not an object (a scalar line) has no fields: no match.
TEST(ConditionTest, NonObjectEventHasNoFields) {
  const Condition condition = condition_from("{field: Status, equals: Incident}");
  MatchCounters counters;
  EXPECT_FALSE(condition.matches(*json::parse("[1,2]").value, counters));
  EXPECT_EQ(counters.missing_fields.load(), 1u);
}

struct ErrorCase {
  const char* name;
  const char* yaml;  // the settings of a drop filter
  std::vector<std::string> expected;
};

class ConditionConfigErrorTest : public ::testing::TestWithParam<ErrorCase> {};

// Each mistake in a condition is reported when the configuration loads,
// with its line, column, key path and the fix.
TEST_P(ConditionConfigErrorTest, ReportsExactMessage) {
  const ErrorCase& test_case = GetParam();
  const YAML::Node node = YAML::Load(test_case.yaml);
  config::Errors errors;
  const config::Section settings(node, nullptr, "filter \"gate\" (drop)", "test.yaml");

  EXPECT_FALSE(Condition::parse(node["condition"], "condition", settings, errors).has_value());
  EXPECT_EQ(testing::problem_texts(errors), test_case.expected);
}

const ErrorCase kErrorCases[] = {
    {"UnknownOperatorWithSuggestion", "condition:\n  field: Status\n  equal: Incident\n",
     {"test.yaml:3:3: filter \"gate\" (drop): key \"condition.equal\": unknown operator \"equal\"; did you mean "
      "\"equals\"?"}},
    {"UnknownOperatorWithList", "condition:\n  field: Status\n  frobnicate: x\n",
     {"test.yaml:3:3: filter \"gate\" (drop): key \"condition.frobnicate\": unknown operator \"frobnicate\"; known "
      "operators: equals, in, contains, prefix, regex, exists, gt, lt"}},
    {"InvalidRegex", "condition:\n  field: Status\n  regex: \"(unclosed\"\n",
     {"test.yaml:3:10: filter \"gate\" (drop): key \"condition.regex\": invalid regular expression \"(unclosed\": "
      "missing ): (unclosed"}},
    {"EqualsWithList", "condition: {field: Severity, equals: [High, Low]}\n",
     {"test.yaml:1:38: filter \"gate\" (drop): key \"condition.equals\": expected a string, number, boolean or null, "
      "got a list; use \"in\" to match any of several values"}},
    {"InWithScalar", "condition: {field: Severity, in: High}\n",
     {"test.yaml:1:34: filter \"gate\" (drop): key \"condition.in\": expected a non-empty list of values, got "
      "\"High\""}},
    {"InWithMapping", "condition: {field: Severity, in: [High, {a: b}]}\n",
     {"test.yaml:1:41: filter \"gate\" (drop): key \"condition.in[1]\": expected a string, number, boolean or null, "
      "got a mapping"}},
    {"ExistsWithText", "condition: {field: Severity, exists: yes}\n",
     {"test.yaml:1:38: filter \"gate\" (drop): key \"condition.exists\": expected true or false, got \"yes\""}},
    {"GreaterThanWithText", "condition: {field: Confidence, gt: ten}\n",
     {"test.yaml:1:36: filter \"gate\" (drop): key \"condition.gt\": expected a number, got \"ten\""}},
    {"LessThanWithYamlOnlyNumber", "condition: {field: Confidence, lt: 0x10}\n",
     {"test.yaml:1:36: filter \"gate\" (drop): key \"condition.lt\": expected a number, got \"0x10\""}},
    {"MissingField", "condition: {equals: Incident}\n",
     {"test.yaml:1:12: filter \"gate\" (drop): key \"condition\": missing key \"field\" (the path of the value to "
      "test, e.g. Source[0].IP4[0])"}},
    {"TwoOperators", "condition: {field: Status, equals: Incident, prefix: Inc}\n",
     {"test.yaml:1:12: filter \"gate\" (drop): key \"condition\": the condition on \"Status\" has 2 operators "
      "(equals, prefix); use one per condition and combine conditions with all or any"}},
    {"NoOperator", "condition: {field: Status}\n",
     {"test.yaml:1:12: filter \"gate\" (drop): key \"condition\": the condition on \"Status\" has no operator; add "
      "one of: equals, in, contains, prefix, regex, exists, gt, lt"}},
    {"InvalidFieldPath", "condition: {field: \"Source[x]\", exists: true}\n",
     {"test.yaml:1:20: filter \"gate\" (drop): key \"condition.field\": invalid field path \"Source[x]\": index "
      "\"x\" is not a non-negative integer"}},
    {"CombinatorWithOtherKeys", "condition: {all: [{field: Status, exists: true}], field: Status}\n",
     {"test.yaml:1:12: filter \"gate\" (drop): key \"condition\": \"all\" must be the only key of its condition, got "
      "\"all\", \"field\"; put the other tests inside it"}},
    {"AnyWithEmptyList", "condition: {any: []}\n",
     {"test.yaml:1:18: filter \"gate\" (drop): key \"condition.any\": expected a non-empty list of conditions, got "
      "an empty list"}},
    {"NotWithList", "condition: {not: [{field: Status, exists: true}]}\n",
     {"test.yaml:1:18: filter \"gate\" (drop): key \"condition.not\": expected a condition such as {field: Status, "
      "equals: Incident}, got a list"}},
    {"ScalarCondition", "condition: Status\n",
     {"test.yaml:1:12: filter \"gate\" (drop): key \"condition\": expected a condition such as {field: Status, "
      "equals: Incident}, got \"Status\""}},
    {"EveryNestedMistake",
     "condition:\n"
     "  any:\n"
     "    - {field: Status, equals: Incident}\n"
     "    - {field: Note, regex: \"[\"}\n"
     "    - not: {field: Count, gt: many}\n",
     {"test.yaml:4:28: filter \"gate\" (drop): key \"condition.any[1].regex\": invalid regular expression \"[\": "
      "missing ]: [",
      "test.yaml:5:31: filter \"gate\" (drop): key \"condition.any[2].not.gt\": expected a number, got \"many\""}},
};

INSTANTIATE_TEST_SUITE_P(ConditionMistakes, ConditionConfigErrorTest, ::testing::ValuesIn(kErrorCases),
                         [](const ::testing::TestParamInfo<ErrorCase>& info) { return info.param.name; });

}  // namespace
}  // namespace slipway::filters
