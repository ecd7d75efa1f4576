#include "outputs/http/request_body.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

namespace slipway::outputs::http {
namespace {

std::vector<Event> events_of(const std::vector<std::string>& texts) {
  std::vector<Event> events;
  for (const std::string& text : texts) {
    events.push_back(Event{text, {}});
  }
  return events;
}

std::string gunzip(const std::string& data) {
  z_stream stream{};
  EXPECT_EQ(inflateInit2(&stream, 15 + 16), Z_OK);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out(1 << 20, '\0');
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

// The event limit cuts a batch into full requests and a last partial one.
TEST(HttpRequestBodyTest, SplitsByEventCount) {
  const auto events = events_of(std::vector<std::string>(25, R"({"ID":"a"})"));
  const auto ranges = split_into_requests(events, Codec::JsonLines, 10, 1 << 20);
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].begin, 0u);
  EXPECT_EQ(ranges[0].end, 10u);
  EXPECT_EQ(ranges[1].end, 20u);
  EXPECT_EQ(ranges[2].size(), 5u);
}

// The byte limit counts each event with its separator; a body exactly at
// the limit is allowed and one byte more starts a new request.
TEST(HttpRequestBodyTest, SplitsByEncodedBytes) {
  const std::string event = R"({"ID":"abcd"})";  // 13 bytes, 14 with LF
  const auto events = events_of({event, event, event});
  const auto exact = split_into_requests(events, Codec::JsonLines, 100, 28);
  ASSERT_EQ(exact.size(), 2u);
  EXPECT_EQ(exact[0].size(), 2u);

  // The array's brackets and comma make two events 1 + 14 + 14 = 29 bytes.
  const auto array = split_into_requests(events, Codec::JsonArray, 100, 28);
  ASSERT_EQ(array.size(), 3u);
  std::string body;
  encode_body(events, EventRange{0, 2}, Codec::JsonArray, body);
  EXPECT_EQ(body.size(), 29u);
}

// An event larger than the byte limit is still sent, alone.
TEST(HttpRequestBodyTest, SendsOversizedEventAlone) {
  const auto events = events_of({R"({"ID":"a"})", std::string(R"({"ID":"b","pad":")") + std::string(100, 'x') + "\"}",
                                 R"({"ID":"c"})"});
  const auto ranges = split_into_requests(events, Codec::JsonLines, 100, 40);
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[1].begin, 1u);
  EXPECT_EQ(ranges[1].size(), 1u);
}

// Flagged events get a request each; the events around them stay grouped.
TEST(HttpRequestBodyTest, SendsFlaggedEventsAlone) {
  const auto events = events_of(std::vector<std::string>(5, R"({"ID":"a"})"));
  const auto ranges = split_into_requests(events, Codec::JsonLines, 100, 1 << 20, {false, false, true, false, false});
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].end, 2u);
  EXPECT_EQ(ranges[1].begin, 2u);
  EXPECT_EQ(ranges[1].end, 3u);
  EXPECT_EQ(ranges[2].end, 5u);
}

// json_lines ends every object with LF; json_array is one valid array.
TEST(HttpRequestBodyTest, EncodesBothCodecs) {
  const auto events = events_of({R"({"ID":"a"})", R"({"ID":"b"})", R"({"ID":"c"})"});
  std::string lines;
  encode_body(events, EventRange{1, 3}, Codec::JsonLines, lines);
  EXPECT_EQ(lines, "{\"ID\":\"b\"}\n{\"ID\":\"c\"}\n");
  std::string array;
  encode_body(events, EventRange{0, 2}, Codec::JsonArray, array);
  EXPECT_EQ(array, R"([{"ID":"a"},{"ID":"b"}])");
}

// The ID is found after members of every kind, and only at the top level.
TEST(HttpRequestBodyTest, FindsTopLevelId) {
  EXPECT_EQ(find_event_id(R"({"Format":"IDEA0","ID":"x-1"})"), "x-1");
  EXPECT_EQ(find_event_id(R"( { "a" : {"ID":"inner"} , "b":[1,"]",{"c":"}"}], "n":-1.5e3, "t":true, "ID" : "outer" })"),
            "outer");
  EXPECT_EQ(find_event_id(R"({"Note":"say \"ID\":\"no\"","ID":"yes"})"), "yes");
  EXPECT_EQ(find_event_id(R"({"ID":"esc\"aped"})"), "esc\\\"aped");
  EXPECT_FALSE(find_event_id(R"({"id":"lowercase"})").has_value());
  EXPECT_FALSE(find_event_id(R"({"ID":42})").has_value());
  EXPECT_FALSE(find_event_id(R"([{"ID":"in array"}])").has_value());
  EXPECT_FALSE(find_event_id(R"({"ID":"unterminated)").has_value());
  EXPECT_FALSE(find_event_id("{}").has_value());
}

// The key depends on the IDs only: a changed field keeps it, a changed ID
// or order changes it, and events without an ID are keyed by their text.
TEST(HttpRequestBodyTest, DerivesIdempotencyKeyFromIds) {
  const auto first = events_of({R"({"ID":"a","received_at":"10:00"})", R"({"ID":"b"})"});
  const auto reread = events_of({R"({"ID":"a","received_at":"10:05"})", R"({"ID":"b"})"});
  const auto swapped = events_of({R"({"ID":"b"})", R"({"ID":"a"})"});
  const auto other = events_of({R"({"ID":"a"})", R"({"ID":"c"})"});
  const std::string key = idempotency_key(first, EventRange{0, 2});
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
  EXPECT_EQ(idempotency_key(reread, EventRange{0, 2}), key);
  EXPECT_NE(idempotency_key(swapped, EventRange{0, 2}), key);
  EXPECT_NE(idempotency_key(other, EventRange{0, 2}), key);
  EXPECT_NE(idempotency_key(first, EventRange{0, 1}), key);

  const auto without_id = events_of({R"({"x":1})", R"({"x":2})"});
  EXPECT_NE(idempotency_key(without_id, EventRange{0, 1}), idempotency_key(without_id, EventRange{1, 2}));
}

// Gzip output decodes to the input, also when the encoder is reused.
TEST(HttpRequestBodyTest, GzipRoundTrips) {
  GzipEncoder encoder;
  std::string compressed;
  const std::string first(5000, 'a');
  encoder.compress(first, compressed);
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
  EXPECT_EQ(gunzip(compressed), first);

  const std::string second = R"({"ID":"b"})" "\n";
  encoder.compress(second, compressed);
  EXPECT_EQ(gunzip(compressed), second);
}

}  // namespace
}  // namespace slipway::outputs::http
