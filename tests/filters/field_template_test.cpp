#include "filters/field_template.hpp"

#include <gtest/gtest.h>

namespace slipway::filters {
namespace {

constexpr std::int64_t kNow = 1'712'656'800'123'456;  // 2024-04-09T10:00:00.123456Z

constexpr const char* kEvent =
    R"({"ID":"a1","DetectTime":"2024-05-13T15:14:49.600149+02:00","Slips":"2024/04/09 10:00:00.5+0200",)"
    R"("Epoch":1712656800.25,"Confidence":0.8,"Category":["Recon"],"Source":[{"IP4":["192.0.2.1"]}]})";

FieldTemplate template_of(const char* text) {
  std::string error;
  std::optional<FieldTemplate> parsed = FieldTemplate::parse(text, error);
  EXPECT_TRUE(parsed.has_value()) << text << ": " << error;
  return *parsed;
}

// Renders a template against kEvent; nullopt when the template yields nothing.
std::optional<std::string> render_text(const char* text, MatchCounters& counters) {
  const std::optional<json::Value> value = template_of(text).render(*json::parse(kEvent).value, kNow, counters);
  if (!value) {
    return std::nullopt;
  }
  return json::to_string(*value);
}

// Placeholders are replaced by field values, times are formatted in UTC,
// and a lone placeholder keeps the JSON type of its value.
TEST(TemplateTest, RendersFieldsAndTimes) {
  const std::pair<const char*, const char*> cases[] = {
      {"{{ Source[0].IP4[0] }}", R"("192.0.2.1")"},
      {"{{Confidence}}", "0.8"},
      {"{{ Category }}", R"(["Recon"])"},
      {"src={{ Source[0].IP4[0] }} c={{ Confidence }} cat={{ Category }}", R"("src=192.0.2.1 c=0.8 cat=[\"Recon\"]")"},
      {"{{ now }}", R"("2024-04-09T10:00:00.123456Z")"},
      {"{{ now | %Y-%m-%dT%H:%M:%SZ }}", R"("2024-04-09T10:00:00Z")"},
      {"{{ DetectTime | %Y-%m-%d }}", R"("2024-05-13")"},
      {"{{ DetectTime | %F %T.%f %z %Z }}", R"("2024-05-13 13:14:49.600149 +0000 UTC")"},
      {"{{ Slips | %H:%M:%S.%f }}", R"("08:00:00.500000")"},
      {"{{ Epoch | %s %j %%}}", R"("1712656800 100 %")"},
      {"no placeholders", R"("no placeholders")"},
  };
  for (const auto& [text, expected] : cases) {
    MatchCounters counters;
    EXPECT_EQ(render_text(text, counters), expected) << text;
    EXPECT_EQ(counters.missing_fields.load() + counters.type_mismatches.load(), 0u) << text;
  }
}

// A missing field or a value that is not a time yields nothing, counted.
TEST(TemplateTest, MissingFieldYieldsNothing) {
  MatchCounters counters;
  EXPECT_EQ(render_text("{{ Missing }}", counters), std::nullopt);
  EXPECT_EQ(render_text("id {{ ID }} {{ Target[0].IP4[0] }}", counters), std::nullopt);
  EXPECT_EQ(counters.missing_fields.load(), 2u);

  EXPECT_EQ(render_text("{{ ID | %Y }}", counters), std::nullopt);
  EXPECT_EQ(render_text("{{ Category | %Y }}", counters), std::nullopt);
  EXPECT_EQ(counters.type_mismatches.load(), 2u);
}

// Mistakes in a template are found when it is parsed.
TEST(TemplateTest, RejectsMalformedTemplates) {
  const std::pair<const char*, const char*> cases[] = {
      {"{{ Source", "placeholder \"{{ Source\" is not closed with \"}}\""},
      {"{{ }}", "placeholder \"{{ }}\" names no field"},
      {"{{ Source[x] }}", "invalid field path \"Source[x]\" in placeholder \"{{ Source[x] }}\": index \"x\" is not a "
                          "non-negative integer"},
      {"{{ now | }}", "placeholder \"{{ now | }}\" has an empty time format after \"|\""},
      {"{{ now | %Y-%q }}", "unknown time conversion \"%q\" in \"%Y-%q\"; known: %Y %m %d %H %M %S %f %j %s %z %Z %F "
                            "%T %%"},
      {"{{ now | %Y% }}", "unknown time conversion \"%\" in \"%Y%\"; known: %Y %m %d %H %M %S %f %j %s %z %Z %F %T %%"},
  };
  for (const auto& [text, expected] : cases) {
    std::string error;
    EXPECT_FALSE(FieldTemplate::parse(text, error).has_value()) << text;
    EXPECT_EQ(error, expected) << text;
  }
}

// Times before 1970 and on leap days format with the right calendar date.
TEST(TemplateTest, FormatsCalendarEdges) {
  const std::vector<FieldTemplate::Conversion> format = {{'F', ""}, {0, " "}, {'T', ""}, {0, "."}, {'f', ""}};
  std::string out;
  append_time(-1, format, out);
  EXPECT_EQ(out, "1969-12-31 23:59:59.999999");
  out.clear();
  append_time(951'782'400'000'000, format, out);  // 2000-02-29
  EXPECT_EQ(out, "2000-02-29 00:00:00.000000");
}

}  // namespace
}  // namespace slipway::filters
