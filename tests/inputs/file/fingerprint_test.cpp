#include "inputs/file/fingerprint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"

namespace slipway::inputs::file {
namespace {

// A position with known lines is stored as "OFFSET:LINES" and read back unchanged.
TEST(FilePositionTest, RoundTripsOffsetAndLines) {
  const FilePosition position{1940, 4, std::nullopt};
  EXPECT_EQ(format_position(position), "1940:4");

  const auto parsed = parse_position("1940:4");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->offset, 1940u);
  EXPECT_EQ(parsed->lines, 4u);
  EXPECT_FALSE(parsed->prefix_hash.has_value());
}

// Unknown line numbers are stored as "?" and a prefix hash as 16 hex digits.
TEST(FilePositionTest, RoundTripsUnknownLinesAndPrefix) {
  const FilePosition position{120, std::nullopt, 0xabcdefULL};
  EXPECT_EQ(format_position(position), "120:?:0000000000abcdef");

  const auto parsed = parse_position("120:?:0000000000abcdef");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->offset, 120u);
  EXPECT_FALSE(parsed->lines.has_value());
  EXPECT_EQ(parsed->prefix_hash, 0xabcdefULL);
}

// Values that are not positions are rejected rather than read as offset 0.
TEST(FilePositionTest, RejectsMalformedValues) {
  EXPECT_FALSE(parse_position("").has_value());
  EXPECT_FALSE(parse_position("12").has_value());
  EXPECT_FALSE(parse_position("x:1").has_value());
  EXPECT_FALSE(parse_position("12:one").has_value());
  EXPECT_FALSE(parse_position("12:1:zz").has_value());
  EXPECT_FALSE(parse_position("-5:1").has_value());
}

// The prefix check accepts the content a checkpoint was taken on and rejects other content.
TEST(FilePositionTest, PrefixMatchesOnlySameContent) {
  testing::TempDir dir;
  testing::write_file(dir / "a.json", "{\"n\":1}\n{\"n\":2}\n");
  const int fd = ::open((dir / "a.json").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);

  const FilePosition same{8, 1, hash_bytes("{\"n\":1}\n")};
  const FilePosition other{8, 1, hash_bytes("{\"n\":9}\n")};
  const FilePosition without_hash{8, 1, std::nullopt};
  EXPECT_TRUE(prefix_matches(fd, same));
  EXPECT_FALSE(prefix_matches(fd, other));
  EXPECT_FALSE(prefix_matches(fd, without_hash));
  ::close(fd);
}

// Only one owner at a time may read an identity; releasing it frees it for another.
TEST(IdentityTableTest, GrantsEachKeyToOneOwner) {
  IdentityTable table({});
  int first = 0;
  int second = 0;

  EXPECT_TRUE(table.claim("fingerprint:1", &first));
  EXPECT_TRUE(table.claim("fingerprint:1", &first));
  EXPECT_FALSE(table.claim("fingerprint:1", &second));

  table.release("fingerprint:1", &second);
  EXPECT_TRUE(table.is_claimed("fingerprint:1"));
  table.release("fingerprint:1", &first);
  EXPECT_TRUE(table.claim("fingerprint:1", &second));
}

}  // namespace
}  // namespace slipway::inputs::file
