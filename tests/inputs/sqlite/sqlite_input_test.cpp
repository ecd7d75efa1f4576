// The `sqlite` input over Slips' flows.sqlite: what an event holds, reading
// while a writer appends, resuming from the committed rowid, and never
// holding a lock that would make the writer fail.
#include "inputs/sqlite/sqlite_input.hpp"

#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include "tests/inputs/sqlite/sqlite_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::inputs {
namespace {

using sqlite_testing::execute;
using sqlite_testing::make_input;
using sqlite_testing::member;
using sqlite_testing::read_to_end;
using slipway::testing::CheckpointMap;
using slipway::testing::FakeInputContext;

constexpr std::size_t kFixtureFlows = 374;
constexpr std::size_t kFixtureAltflows = 89;
constexpr std::int64_t kFixtureLastFlowRowid = 374;

// A flows row in the released Slips schema, for rows a test appends.
std::string insert_flow(const std::string& table, const std::string& uid, const std::string& sixth_column = "aid") {
  return fmt::format(
      R"(INSERT INTO {} (uid, flow, label, profileid, twid, {}) VALUES ('{}', '{{"starttime": 1520628600.5, )"
      R"("uid": "{}", "saddr": "10.0.0.1", "daddr": "10.0.0.2", "proto": "tcp", "sport": 1, "dport": 2}}', )"
      R"('benign', 'profile_10.0.0.1', 'timewindow1', '');)",
      table, sixth_column, uid, uid);
}

// Where the writer probe commits: inside emit(), where a blocked output
// would hold the input for long, or inside the idle wait between polls.
enum class CommitPoint { Emit, IdleWait };

// An input context that acts as the writer: it commits a row with no busy
// wait at the chosen point, a few times, and then lets the input finish.
class WriterProbeContext final : public InputContext {
 public:
  WriterProbeContext(std::filesystem::path database, CommitPoint point)
      : InputContext(ComponentKind::Input, "flows", "sqlite",
                     std::make_shared<spdlog::logger>("probe", std::make_shared<spdlog::sinks::null_sink_mt>()), {},
                     nullptr),
        database_(std::move(database)),
        point_(point) {}

  // Also stops an input that reads the same rows again and again.
  bool stop_requested() const override { return stopped_ || events > kMaxEvents; }
  // Each idle wait follows a pass that read everything there was.
  bool wait_for_stop(std::chrono::milliseconds /*timeout*/) override {
    if (point_ == CommitPoint::IdleWait && commit_codes.size() < kCommits) {
      commit();
      return false;
    }
    stopped_ = true;
    return true;
  }
  void emit(Batch batch) override {
    events += batch.events.size();
    if (point_ == CommitPoint::Emit && commit_codes.size() < kCommits) {
      commit();
    }
  }
  std::map<std::string, std::string> load_checkpoints() override { return {}; }
  void remove_checkpoint(const std::string& /*key*/) override {}
  AckRef track(CheckpointEntry checkpoint) override { return tracker_->track(std::move(checkpoint)); }

  static constexpr std::size_t kCommits = 3;
  static constexpr std::size_t kMaxEvents = 10'000;
  std::size_t events = 0;
  std::vector<int> commit_codes;

 private:
  void commit() {
    const std::string uid = "Cprobe" + std::to_string(commit_codes.size());
    commit_codes.push_back(execute(
        database_, "BEGIN IMMEDIATE; INSERT INTO flows (uid, flow, label) VALUES ('" + uid + "', '{}', 'benign'); COMMIT;",
        0));
  }

  std::filesystem::path database_;
  CommitPoint point_;
  bool stopped_ = false;
  std::shared_ptr<AckTracker> tracker_ = std::make_shared<AckTracker>([](const std::vector<CheckpointEntry>&) {});
};

class SqliteInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fixture_ = slipway::testing::shared_path("fixtures/slips/flows-test7.sqlite");
    if (fixture_.empty()) {
      GTEST_SKIP() << "the Slips flows database fixture (fixtures/slips/flows-test7.sqlite) is absent";
    }
    database_ = dir_ / "flows.sqlite";
    std::filesystem::copy_file(fixture_, database_);
    std::filesystem::permissions(database_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }

  // Starts the input on `yaml` with its own context; the test drives it.
  std::unique_ptr<FakeInputContext> start(const std::string& yaml,
                                          std::shared_ptr<CheckpointMap> checkpoints = std::make_shared<CheckpointMap>()) {
    config::Errors errors;
    auto input = make_input("path: " + database_.string() + "\n" + yaml, errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    auto context = std::make_unique<FakeInputContext>(dir_.path(), std::move(checkpoints));
    context->start(std::move(input));
    return context;
  }

  std::string checkpoint_key(const std::string& table) const { return database_.string() + "#" + table; }

  slipway::testing::TempDir dir_;
  std::filesystem::path fixture_;
  std::filesystem::path database_;
};

// Every row of both tables becomes one event, flows first, each in rowid order.
TEST_F(SqliteInputTest, ReadsEveryRowOfBothTables) {
  const std::vector<Event> events = read_to_end(database_, "", dir_.path());
  ASSERT_EQ(events.size(), kFixtureFlows + kFixtureAltflows);

  std::set<std::string> flow_uids;
  for (std::size_t event_idx = 0; event_idx < kFixtureFlows; ++event_idx) {
    EXPECT_EQ(member(events[event_idx], "type_"), "conn") << events[event_idx].json;
    EXPECT_EQ(member(events[event_idx], "flow_type"), "<absent>");
    flow_uids.insert(member(events[event_idx], "uid"));
  }
  EXPECT_EQ(flow_uids.size(), kFixtureFlows);
  for (std::size_t event_idx = kFixtureFlows; event_idx < events.size(); ++event_idx) {
    EXPECT_NE(member(events[event_idx], "flow_type"), "<absent>") << events[event_idx].json;
  }
  EXPECT_EQ(events.front().origin.line, 1u);
  EXPECT_EQ(events.back().origin.line, 182u);
}

// A flows row becomes the members of its flow JSON, in their order, then
// label, profileid, twid and the sixth column under its own name.
TEST_F(SqliteInputTest, MergesFlowJsonWithColumns) {
  const std::vector<Event> events = read_to_end(database_, "tables: [flows]", dir_.path());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().json,
            R"({"starttime":1520628556.553192,"uid":"C2j5Zj1clj6fNNg2Fj","saddr":"fe80::a4d1:8cff:fe1f:ce64",)"
            R"("daddr":"ff02::fb","dur":14.121536016464233,"proto":"udp","appproto":"dns","sport":5353,)"
            R"("dport":5353,"spkts":6,"dpkts":0,"sbytes":1702,"dbytes":0,"smac":"a6:d1:8c:1f:ce:64",)"
            R"("dmac":"33:33:00:00:00:fb","state":"S0","history":"D","type_":"conn","dir_":"->","label":"benign",)"
            R"("profileid":"profile_fe80::a4d1:8cff:fe1f:ce64","twid":"timewindow1",)"
            R"("community_id":"1:NLVjcb/Dfv8QkgBSE0mJdgk3IzI="})");
}

// The released schema names the sixth column aid; it reaches the event as aid.
TEST_F(SqliteInputTest, KeepsReleasedSchemaAidColumn) {
  const auto released = dir_ / "released.sqlite";
  ASSERT_EQ(execute(released,
                    "CREATE TABLE flows (uid TEXT PRIMARY KEY, flow TEXT, label TEXT, profileid TEXT, twid TEXT, "
                    "aid TEXT);" +
                        insert_flow("flows", "Cr1") +
                        "UPDATE flows SET aid = '2:e8dvyLklKok9UtBWeD13nz4KFaA=';"),
            SQLITE_OK);
  const std::vector<Event> events = read_to_end(released, "tables: [flows]", dir_.path());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(member(events[0], "aid"), "2:e8dvyLklKok9UtBWeD13nz4KFaA=");
  EXPECT_EQ(member(events[0], "community_id"), "<absent>");
}

// With flow_text_field the flow column's text is kept byte for byte, as
// Slips' labeled-flow export writes it.
TEST_F(SqliteInputTest, KeepsFlowTextWhenAsked) {
  const std::vector<Event> events = read_to_end(database_, "tables: [flows]\nflow_text_field: flow", dir_.path());
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(member(events.front(), "flow"),
            R"({"starttime": 1520628556.553192, "uid": "C2j5Zj1clj6fNNg2Fj", "saddr": "fe80::a4d1:8cff:fe1f:ce64", )"
            R"("daddr": "ff02::fb", "dur": 14.121536016464233, "proto": "udp", "appproto": "dns", "sport": 5353, )"
            R"("dport": 5353, "spkts": 6, "dpkts": 0, "sbytes": 1702, "dbytes": 0, "smac": "a6:d1:8c:1f:ce:64", )"
            R"("dmac": "33:33:00:00:00:fb", "state": "S0", "history": "D", "type_": "conn", "dir_": "->"})");
}

// Rows a writer appends while the input polls are read in the next pass.
TEST_F(SqliteInputTest, PicksUpRowsAppendedByWriter) {
  auto context = start("tables: [flows]\npoll_interval_ms: 5");
  ASSERT_TRUE(context->wait_for_events(kFixtureFlows));
  ASSERT_TRUE(context->wait_for_idle_passes(1));

  ASSERT_EQ(execute(database_, insert_flow("flows", "Cnew1", "community_id") + insert_flow("flows", "Cnew2", "community_id"),
                    1000),
            SQLITE_OK);
  ASSERT_TRUE(context->wait_for_events(kFixtureFlows + 2));
  const std::vector<Event> events = context->events();
  EXPECT_EQ(member(events[kFixtureFlows], "uid"), "Cnew1");
  EXPECT_EQ(member(events[kFixtureFlows + 1], "uid"), "Cnew2");
  context->stop();
}

// While the input waits between polls it holds no lock, so a writer that
// does not wait at all still commits, and the next poll reads its rows. The
// fixture uses a rollback journal, where a reader's open statement would
// make the commit fail.
TEST_F(SqliteInputTest, LeavesWriterUnblockedWhilePolling) {
  config::Errors errors;
  auto input = make_input("path: " + database_.string() + "\nbatch_max_events: 50", errors);
  ASSERT_FALSE(errors.has_errors()) << errors.format();
  WriterProbeContext probe(database_, CommitPoint::IdleWait);
  input->run(probe);

  ASSERT_EQ(probe.commit_codes.size(), WriterProbeContext::kCommits);
  for (const int code : probe.commit_codes) {
    EXPECT_EQ(code, SQLITE_OK);
  }
  EXPECT_EQ(probe.events, kFixtureFlows + kFixtureAltflows + WriterProbeContext::kCommits);
}

// A chunk's statement is reset before its rows are emitted, so a writer
// commits while the input waits in emit() for a slow output.
TEST_F(SqliteInputTest, LeavesWriterUnblockedWhileEmitting) {
  config::Errors errors;
  auto input = make_input("path: " + database_.string() + "\ntables: [flows]\nbatch_max_events: 50", errors);
  ASSERT_FALSE(errors.has_errors()) << errors.format();
  WriterProbeContext probe(database_, CommitPoint::Emit);
  input->run(probe);

  ASSERT_EQ(probe.commit_codes.size(), WriterProbeContext::kCommits);
  for (const int code : probe.commit_codes) {
    EXPECT_EQ(code, SQLITE_OK);
  }
  // The rows the probe committed are read as well.
  EXPECT_EQ(probe.events, kFixtureFlows + WriterProbeContext::kCommits);
}

// After a restart the input continues after the rowid its delivered batches
// committed, and reads nothing twice.
TEST_F(SqliteInputTest, ResumesAfterCommittedRowid) {
  auto checkpoints = std::make_shared<CheckpointMap>();
  EXPECT_EQ(read_to_end(database_, "tables: [flows]", dir_.path(), checkpoints).size(), kFixtureFlows);
  EXPECT_EQ(checkpoints->find(checkpoint_key("flows")), std::to_string(kFixtureLastFlowRowid));

  ASSERT_EQ(execute(database_, insert_flow("flows", "Cafter", "community_id")), SQLITE_OK);
  const std::vector<Event> resumed = read_to_end(database_, "tables: [flows]", dir_.path(), checkpoints);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(member(resumed[0], "uid"), "Cafter");
}

// Batches that were never delivered leave the checkpoint where it was, so
// their rows are read again after the restart.
TEST_F(SqliteInputTest, RereadsUndeliveredRowsAfterRestart) {
  auto checkpoints = std::make_shared<CheckpointMap>();
  checkpoints->set(checkpoint_key("flows"), "300");
  {
    auto context = start("tables: [flows]\nbatch_max_events: 10\nexit_at_eof: true", checkpoints);
    ASSERT_TRUE(context->wait_for_finish());
    EXPECT_EQ(context->events().size(), kFixtureFlows - 300);
    EXPECT_EQ(member(context->events().front(), "uid"), "CW4launJwjb8ZoWne");
    context->drop_unacknowledged();
  }
  EXPECT_EQ(checkpoints->find(checkpoint_key("flows")), "300");
  EXPECT_EQ(read_to_end(database_, "tables: [flows]", dir_.path(), checkpoints).size(), kFixtureFlows - 300);
}

// A checkpoint past the last row belongs to an older database at the same
// path, so the input starts again from the first row.
TEST_F(SqliteInputTest, RestartsWhenCheckpointIsPastEnd) {
  auto checkpoints = std::make_shared<CheckpointMap>();
  checkpoints->set(checkpoint_key("flows"), "100000");
  EXPECT_EQ(read_to_end(database_, "tables: [flows]", dir_.path(), checkpoints).size(), kFixtureFlows);
}

// A user query selects the rows and columns; :limit bounds each chunk.
TEST_F(SqliteInputTest, ReadsUserQuery) {
  const std::vector<Event> events = read_to_end(
      database_,
      "query: \"SELECT rowid AS rowid, uid, label FROM flows WHERE rowid > :last_rowid AND label = 'malicious' "
      "ORDER BY rowid LIMIT :limit\"\nbatch_max_events: 7",
      dir_.path());
  ASSERT_EQ(events.size(), 101u);
  for (const Event& event : events) {
    json::ParseResult parsed = json::parse(event.json);
    ASSERT_TRUE(parsed.value.has_value());
    ASSERT_EQ(parsed.value->members().size(), 2u) << event.json;
    EXPECT_EQ(member(event, "label"), "malicious");
  }
}

// A query whose rows cannot be resumed stops the input with an error, counted.
TEST_F(SqliteInputTest, StopsOnQueryWithoutRowidColumn) {
  auto context = start("query: \"SELECT uid FROM flows WHERE rowid > :last_rowid\"");
  ASSERT_TRUE(context->wait_for_finish());
  EXPECT_TRUE(context->events().empty());
  EXPECT_EQ(context->metrics().errors.load(), 1u);
  EXPECT_TRUE(context->log_contains("the query returns no column named rowid"));
}

// A query without :last_rowid could not resume, so the configuration is rejected.
TEST_F(SqliteInputTest, RejectsQueryWithoutLastRowid) {
  config::Errors errors;
  make_input("path: x.sqlite\nquery: \"SELECT rowid, * FROM flows\"", errors);
  ASSERT_EQ(errors.problems().size(), 1u);
  EXPECT_EQ(errors.problems()[0].message,
            "input \"flows\" (sqlite): key \"query\": the query has no :last_rowid parameter; select rows with "
            "rowid > :last_rowid ORDER BY rowid so a restart resumes after the last row");
}

// Tables and a query together are ambiguous and rejected.
TEST_F(SqliteInputTest, RejectsTablesWithQuery) {
  config::Errors errors;
  make_input("path: x.sqlite\ntables: [flows]\nquery: \"SELECT rowid, * FROM flows WHERE rowid > :last_rowid\"",
             errors);
  ASSERT_EQ(errors.problems().size(), 1u);
  EXPECT_EQ(errors.problems()[0].message,
            "input \"flows\" (sqlite): keys \"tables\" and \"query\" exclude each other; keep one of them");
}

// Slips creates the database after slipway may have started; the input
// waits for the file and its table instead of failing.
TEST_F(SqliteInputTest, WaitsForDatabaseToAppear) {
  database_ = dir_ / "later.sqlite";
  auto context = start("tables: [flows]\npoll_interval_ms: 5");
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  // The writer waits for locks like PicksUpRowsAppendedByWriter's, because
  // a poll every 5 ms may be reading the database at the moment it writes.
  ASSERT_EQ(execute(database_, "CREATE TABLE other (x TEXT);", 1000), SQLITE_OK);
  ASSERT_TRUE(context->wait_for_idle_passes(2));
  ASSERT_EQ(execute(database_,
                    "CREATE TABLE flows (uid TEXT PRIMARY KEY, flow TEXT, label TEXT, profileid TEXT, twid TEXT, "
                    "aid TEXT);" + insert_flow("flows", "Cfirst"),
                    1000),
            SQLITE_OK);
  ASSERT_TRUE(context->wait_for_events(1));
  EXPECT_EQ(member(context->events()[0], "uid"), "Cfirst");
  EXPECT_TRUE(context->log_contains("Waiting for the database to become readable."));
  context->stop();
}

// A row whose flow column is not JSON goes to the dead-letter file; the
// rows around it are delivered and the checkpoint passes it.
TEST_F(SqliteInputTest, DeadLettersRowWithBrokenFlowJson) {
  ASSERT_EQ(execute(database_, "INSERT INTO flows (uid, flow, label) VALUES ('Cbroken', '{\"starttime\": 1', 'benign');" +
                                   insert_flow("flows", "Clast", "community_id")),
            SQLITE_OK);
  auto checkpoints = std::make_shared<CheckpointMap>();
  const std::vector<Event> events = read_to_end(database_, "tables: [flows]", dir_.path(), checkpoints);
  ASSERT_EQ(events.size(), kFixtureFlows + 1);
  EXPECT_EQ(member(events.back(), "uid"), "Clast");
  const std::string dead_letters = slipway::testing::read_file(dir_ / "dead_letter.json");
  EXPECT_NE(dead_letters.find("the flow column is not valid JSON"), std::string::npos) << dead_letters;
  EXPECT_NE(dead_letters.find("(table flows)"), std::string::npos) << dead_letters;
  EXPECT_EQ(checkpoints->find(checkpoint_key("flows")), std::to_string(kFixtureLastFlowRowid + 2));
}

// When Slips starts a new run in the same directory the file is replaced;
// the input follows the new file from its first row.
TEST_F(SqliteInputTest, FollowsReplacedDatabaseFile) {
  auto context = start("tables: [flows]\npoll_interval_ms: 5");
  ASSERT_TRUE(context->wait_for_events(kFixtureFlows));
  ASSERT_TRUE(context->wait_for_idle_passes(1));

  const auto replacement = dir_ / "replacement.sqlite";
  ASSERT_EQ(execute(replacement,
                    "CREATE TABLE flows (uid TEXT PRIMARY KEY, flow TEXT, label TEXT, profileid TEXT, twid TEXT, "
                    "aid TEXT);" + insert_flow("flows", "Cnewrun")),
            SQLITE_OK);
  std::filesystem::rename(replacement, database_);
  ASSERT_TRUE(context->wait_for_events(kFixtureFlows + 1));
  EXPECT_EQ(member(context->events().back(), "uid"), "Cnewrun");
  context->stop();
}

}  // namespace
}  // namespace slipway::inputs
