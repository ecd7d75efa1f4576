// The component reference generated from schemas: what `slipway describe`
// prints and the pages committed under docs/components.
#include "engine/describe.hpp"

#include <set>

#include <gtest/gtest.h>

#include "engine/commands.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

const ComponentType& registered(ComponentKind kind, std::string_view name) {
  const ComponentType* type = Registry::instance().find(kind, name);
  EXPECT_NE(type, nullptr) << name << " is not registered";
  return *type;
}

std::set<std::string> file_names_in(const std::filesystem::path& directory) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(directory)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

TEST(DescribeTest, ListsEveryRegisteredTypeWithItsSummary) {
  const std::string listing = describe::list_types();

  for (const ComponentKind kind : {ComponentKind::Input, ComponentKind::Filter, ComponentKind::Output}) {
    for (const ComponentType* type : Registry::instance().all(kind)) {
      EXPECT_NE(listing.find(type->name), std::string::npos) << type->name;
      EXPECT_NE(listing.find(type->summary), std::string::npos) << type->name;
    }
  }
}

TEST(DescribeTest, OutputShowsCommonAndNestedKeys) {
  const std::string text = describe::describe_type(registered(ComponentKind::Output, "file"), describe::Format::Text);

  EXPECT_NE(text.find("  path: string; required"), std::string::npos) << text;
  EXPECT_NE(text.find("  from: list of strings; required"), std::string::npos) << text;
  EXPECT_NE(text.find("  retry.max_retries: "), std::string::npos) << text;
  EXPECT_NE(text.find("  buffer.when_full: one of block, drop_newest; default block"), std::string::npos) << text;
}

TEST(DescribeTest, InputHasNoFromKey) {
  const std::string text = describe::describe_type(registered(ComponentKind::Input, "file"), describe::Format::Text);

  EXPECT_EQ(text.find("  from:"), std::string::npos) << text;
  EXPECT_NE(text.find("  paths: list of strings; required"), std::string::npos) << text;
}

TEST(DescribeTest, SharedNameFindsInputAndOutput) {
  const std::vector<const ComponentType*> types = describe::find_types("file");

  ASSERT_EQ(types.size(), 2u);
  EXPECT_EQ(types[0]->kind, ComponentKind::Input);
  EXPECT_EQ(types[1]->kind, ComponentKind::Output);
}

TEST(DescribeTest, MarkdownEscapesTableSeparators) {
  const std::string page =
      describe::describe_type(registered(ComponentKind::Filter, "route"), describe::Format::Markdown);

  EXPECT_TRUE(page.starts_with("# `route` filter\n")) << page;
  for (std::size_t start = page.find("\n| `"); start != std::string::npos; start = page.find("\n| `", start + 1)) {
    const std::string row = page.substr(start + 1, page.find('\n', start + 1) - start - 1);
    std::size_t separators = 0;
    for (std::size_t at = 0; at < row.size(); ++at) {
      separators += row[at] == '|' && (at == 0 || row[at - 1] != '\\');
    }
    EXPECT_EQ(separators, 5u) << row;
  }
}

TEST(DescribeTest, UnknownTypeSuggestsClosestName) {
  TempDir dir;
  const int exit_code = run_slipway({"describe", "idea_normalise"}, dir / "stdout", dir / "stderr");

  EXPECT_EQ(exit_code, commands::kExitUsage);
  EXPECT_NE(read_file(dir / "stderr").find("did you mean \"idea_normalize\"?"), std::string::npos)
      << read_file(dir / "stderr");
}

TEST(DescribeTest, CommittedPagesMatchTheSchemas) {
  const std::filesystem::path committed = std::filesystem::path(SLIPWAY_SOURCE_DIR) / "docs" / "components";
  TempDir generated;
  ASSERT_EQ(commands::describe("", false, generated.path()), commands::kExitOk);

  const std::set<std::string> names = file_names_in(generated.path());
  ASSERT_EQ(file_names_in(committed), names)
      << "regenerate with: build/slipway describe --write-pages docs/components";
  for (const std::string& name : names) {
    EXPECT_EQ(read_file(committed / name), read_file(generated / name))
        << name << " is stale; regenerate with: build/slipway describe --write-pages docs/components";
  }
}

}  // namespace
}  // namespace slipway::testing
