// Three slipway processes share one Redis stream as a consumer group. One
// is killed with SIGKILL while the others keep reading: every entry still
// reaches a file, the only entries delivered twice are those the killed
// process held unacknowledged, and the group's pending list ends empty.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include "engine/json.hpp"
#include "tests/support/process.hpp"
#include "tests/support/redis_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::testing {
namespace {

constexpr std::size_t kEntries = 100'000;
constexpr std::size_t kWriteChunk = 1000;
constexpr int kConsumers = 3;
constexpr int kKilledConsumer = 1;  // index of the consumer that is killed

// Appends the entry IDs found in `path` to `ids`; returns the number of
// lines that are not JSON objects with a string "redis_id".
std::size_t read_ids(const std::filesystem::path& path, std::vector<std::string>& ids) {
  std::ifstream stream(path);
  std::size_t unreadable = 0;
  for (std::string line; std::getline(stream, line);) {
    json::ParseResult parsed = json::parse(line);
    const json::Value* id = parsed.value ? parsed.value->find("redis_id") : nullptr;
    if (id == nullptr || !id->is_string()) {
      ++unreadable;
      continue;
    }
    ids.push_back(id->as_string());
  }
  return unreadable;
}

std::set<std::string> write_entries(const RedisServer& server) {
  std::set<std::string> ids;
  auto client = server.client();
  for (std::size_t first = 0; first < kEntries; first += kWriteChunk) {
    std::vector<std::string> payloads;
    for (std::size_t number = first; number < first + kWriteChunk; ++number) {
      payloads.push_back(fmt::format(R"({{"n": {}}})", number));
    }
    for (const std::string& payload : payloads) {
      client->append({"XADD", "alerts", "*", "event", payload});
    }
    for (std::size_t reply_idx = 0; reply_idx < payloads.size(); ++reply_idx) {
      ids.emplace(client->read_reply().text());
    }
  }
  return ids;
}

// IDs pending at `consumer`, from XPENDING's extended form.
std::set<std::string> pending_at(const RedisServer& server, const std::string& consumer) {
  std::set<std::string> ids;
  const redis::Reply reply =
      server.command({"XPENDING", "alerts", "shippers", "-", "+", std::to_string(kEntries), consumer});
  for (std::size_t entry_idx = 0; reply.is_array() && entry_idx < reply.get()->elements; ++entry_idx) {
    ids.emplace(redis::element_text(reply.get()->element[entry_idx]->element[0]));
  }
  return ids;
}

long long pending_total(const RedisServer& server) {
  const redis::Reply reply = server.command({"XPENDING", "alerts", "shippers"});
  return reply.is_array() && reply.get()->elements > 0 ? reply.get()->element[0]->integer : -1;
}

TEST(RedisScaleOutTest, SurvivesKilledConsumerWithoutLoss) {
  if (RedisServer::binary().empty()) {
    GTEST_SKIP() << RedisServer::missing_message();
  }
  RedisServer server;
  TempDir dir;
  const std::set<std::string> written = write_entries(server);
  ASSERT_EQ(written.size(), kEntries);

  std::vector<std::unique_ptr<ChildProcess>> consumers;
  std::vector<std::filesystem::path> outputs;
  for (int consumer_idx = 0; consumer_idx < kConsumers; ++consumer_idx) {
    const std::string name = fmt::format("c{}", consumer_idx);
    outputs.push_back(dir / (name + ".json"));
    const std::filesystem::path pipeline = dir / (name + ".yaml");
    write_file(pipeline, fmt::format(R"(
data_dir: {}
inputs:
  entries:
    type: redis
    mode: stream
    url: {}
    stream: alerts
    group: shippers
    consumer: {}
    claim_idle_ms: 5000
    block_ms: 200
    batch_max_events: 256
    entry_id_field: redis_id
outputs:
  archive: {{type: file, from: [entries], path: {}, fsync: never}}
)",
                                     (dir / ("var-" + name)).string(), server.url(), name, outputs.back().string()));
    consumers.push_back(
        std::make_unique<ChildProcess>(std::vector<std::string>{slipway_binary(), "run", pipeline.string()},
                                       dir / (name + ".out"), dir / (name + ".err")));
  }

  // Midway, once a quarter of the entries are out, the victim is frozen
  // with SIGSTOP until it has entries read but not acknowledged, and then
  // killed. Frozen, it cannot acknowledge, and no other consumer claims its
  // entries before they are idle for 5 s, so the pending list read in
  // between is exactly what it held when it died.
  const std::string victim = fmt::format("c{}", kKilledConsumer);
  const pid_t victim_pid = consumers[kKilledConsumer]->pid();
  std::size_t lines_at_kill = 0;
  std::set<std::string> held_by_killed;
  ASSERT_TRUE(wait_until(
      [&] {
        lines_at_kill = 0;
        for (const auto& output : outputs) {
          lines_at_kill += count_lines(output);
        }
        if (lines_at_kill < kEntries / 4) {
          return false;
        }
        int status = 0;
        ::kill(victim_pid, SIGSTOP);
        ::waitpid(victim_pid, &status, WUNTRACED);
        held_by_killed = pending_at(server, victim);
        if (!held_by_killed.empty()) {
          return true;
        }
        ::kill(victim_pid, SIGCONT);
        return false;
      },
      std::chrono::seconds(120)))
      << read_file(dir / "c0.err");
  consumers[kKilledConsumer]->send_signal(SIGKILL);
  ASSERT_EQ(consumers[kKilledConsumer]->wait(std::chrono::seconds(10)), 128 + SIGKILL);
  EXPECT_EQ(pending_at(server, victim), held_by_killed);

  const auto all_delivered = [&] {
    std::vector<std::string> ids;
    for (const auto& output : outputs) {
      read_ids(output, ids);
    }
    return std::set<std::string>(ids.begin(), ids.end()).size() == kEntries && pending_total(server) == 0;
  };
  EXPECT_TRUE(wait_until(all_delivered, std::chrono::seconds(180)))
      << "pending=" << pending_total(server) << "\n"
      << read_file(dir / "c0.err") << read_file(dir / "c2.err");

  for (int consumer_idx = 0; consumer_idx < kConsumers; ++consumer_idx) {
    if (consumer_idx != kKilledConsumer) {
      consumers[consumer_idx]->send_signal(SIGTERM);
      EXPECT_EQ(consumers[consumer_idx]->wait(std::chrono::seconds(30)), 0)
          << read_file(dir / fmt::format("c{}.err", consumer_idx));
    }
  }

  std::map<std::string, int> deliveries;
  for (int consumer_idx = 0; consumer_idx < kConsumers; ++consumer_idx) {
    std::vector<std::string> ids;
    const std::size_t unreadable = read_ids(outputs[consumer_idx], ids);
    // Only the killed process can leave a torn last line behind.
    if (consumer_idx != kKilledConsumer) {
      EXPECT_EQ(unreadable, 0u) << outputs[consumer_idx];
    }
    for (const std::string& id : ids) {
      ++deliveries[id];
    }
  }

  std::size_t missing = 0;
  std::size_t unexpected_duplicates = 0;
  std::size_t duplicates = 0;
  for (const std::string& id : written) {
    const auto found = deliveries.find(id);
    if (found == deliveries.end()) {
      ++missing;
    } else if (found->second > 1) {
      ++duplicates;
      if (!held_by_killed.contains(id)) {
        ++unexpected_duplicates;
      }
    }
  }
  EXPECT_EQ(deliveries.size(), kEntries);
  EXPECT_EQ(missing, 0u);
  EXPECT_EQ(unexpected_duplicates, 0u) << "duplicates=" << duplicates;
  EXPECT_EQ(pending_total(server), 0);
  RecordProperty("duplicates", static_cast<int>(duplicates));
  RecordProperty("held_by_killed", static_cast<int>(held_by_killed.size()));
  RecordProperty("lines_at_kill", static_cast<int>(lines_at_kill));
}

}  // namespace
}  // namespace slipway::testing
