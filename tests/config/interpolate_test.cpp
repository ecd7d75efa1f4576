#include "config/interpolate.hpp"

#include <map>

#include <gtest/gtest.h>

namespace slipway::config {
namespace {

// The environment of the interpolation field case: values with `$`, an
// empty variable, a value with a quote and a newline, and an unset one.
Environment test_environment() {
  static const std::map<std::string, std::string> kVariables = {
      {"STUB_PORT", "18080"},   {"WARDEN_SECRET", "pa$word$1${HOME}"},
      {"EMPTY_VAR", ""},        {"SITE", "example.com"},
      {"HOME", "/root"},        {"TRICKY", "x\"\nmatch: \"*\""},
  };
  return [](const std::string& name) -> std::optional<std::string> {
    const auto found = kVariables.find(name);
    if (found == kVariables.end()) {
      return std::nullopt;
    }
    return found->second;
  };
}

std::string expand(std::string_view text) {
  InterpolationResult result = interpolate(text, test_environment());
  EXPECT_EQ(result.error, "") << "while expanding " << text;
  return result.value;
}

// A plain ${VAR} inside a longer value expands.
TEST(InterpolateTest, ExpandsVariableInsideValue) {
  EXPECT_EQ(expand("http://127.0.0.1:${STUB_PORT}/ingest"), "http://127.0.0.1:18080/ingest");
}

// A value from a variable is not expanded again, so `$` and `${HOME}` in a password stay literal.
TEST(InterpolateTest, ExpandsValueOnlyOnce) {
  EXPECT_EQ(expand("${WARDEN_SECRET}"), "pa$word$1${HOME}");
}

// The default applies when the variable is unset.
TEST(InterpolateTest, UsesDefaultForUnsetVariable) {
  EXPECT_EQ(expand("${WARDEN_USER:-slips}"), "slips");
}

// Like the shell's `:-`, the default also applies to a set but empty variable.
TEST(InterpolateTest, UsesDefaultForEmptyVariable) {
  EXPECT_EQ(expand("${EMPTY_VAR:-fallback}"), "fallback");
}

// `$$` is one literal dollar sign.
TEST(InterpolateTest, DoubleDollarIsLiteral) {
  EXPECT_EQ(expand("literal $$HOME and $$1"), "literal $HOME and $1");
}

// Regex references and prices are not variables.
TEST(InterpolateTest, KeepsBareDollarReferences) {
  EXPECT_EQ(expand("$2-$1"), "$2-$1");
  EXPECT_EQ(expand("cost $5 at ${SITE}"), "cost $5 at example.com");
  EXPECT_EQ(expand("ends with $"), "ends with $");
}

// A value with a quote and a newline is inserted as data.
TEST(InterpolateTest, InsertsQuoteAndNewlineVerbatim) {
  const std::string value = expand("${TRICKY}");
  EXPECT_EQ(value.size(), 13u);
  EXPECT_EQ(value, "x\"\nmatch: \"*\"");
}

// An unset variable without a default is an error naming it.
TEST(InterpolateTest, RejectsUnsetVariableWithoutDefault) {
  const InterpolationResult result = interpolate("cost at ${MISSING_SITE}", test_environment());
  EXPECT_EQ(result.error,
            "environment variable \"MISSING_SITE\" is not set; set it, or write \"${MISSING_SITE:-default}\" to give "
            "a default");
}

// An unterminated reference is an error rather than literal text.
TEST(InterpolateTest, RejectsUnclosedReference) {
  const InterpolationResult result = interpolate("${SITE", test_environment());
  EXPECT_EQ(result.error, "\"${\" without a closing \"}\"; write \"$${\" for a literal \"${\"");
}

}  // namespace
}  // namespace slipway::config
