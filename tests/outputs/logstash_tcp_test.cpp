// The logstash output's tcp protocol (JSON lines): against Debian's
// syslog-ng as a real json_lines receiver that restarts, and against a
// raw socket that resets a connection in the middle of a batch.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "config/pipeline_config.hpp"
#include "engine/json.hpp"
#include "engine/pipeline.hpp"
#include "outputs/logstash/logstash_output.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace slipway::outputs::logstash {
namespace {

using slipway::testing::ChildProcess;
using slipway::testing::read_file;
using slipway::testing::TempDir;
using slipway::testing::wait_until;
using slipway::testing::write_file;

constexpr auto kReceiveTimeout = std::chrono::seconds(30);

std::string alert_id(int record) { return fmt::format("0000000c-0000-4000-8000-{:012}", record); }

std::string alert(int record) {
  return fmt::format(R"({{"Format":"IDEA0","ID":"{}","DetectTime":"2024-04-09T10:00:00Z",)"
                     R"("Category":["Recon.Scanning"],"Source":[{{"IP4":["192.0.2.{}"]}}],"Note":"line\nbreak {}"}})",
                     alert_id(record), record % 250, record);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream stream(text);
  std::string line;
  while (std::getline(stream, line)) {
    lines.push_back(line);
  }
  return lines;
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts_connections(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

std::filesystem::path find_syslog_ng() {
  for (const char* candidate : {"/usr/sbin/syslog-ng", "/usr/bin/syslog-ng", "/sbin/syslog-ng"}) {
    if (::access(candidate, X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

// syslog-ng 3.38 as a json_lines receiver: each line that parses as JSON
// goes to received.jsonl (re-serialised, every value a string), any other
// line to rejected.log.
constexpr std::string_view kSyslogNgConfig = R"(@version: 3.38
options { threaded(yes); keep-hostname(yes); stats-freq(0); };
source s_jsonl { network(ip("127.0.0.1") port(`JL_PORT`) transport("tcp") flags(no-parse) log-msg-size(1048576)); };
parser p_json { json-parser(prefix(".json.")); };
destination d_ok  { file("`OUT_DIR`/received.jsonl" template("$(format-json --scope dot-nv-pairs --key .json.* --shift 6)\n")); };
destination d_bad { file("`OUT_DIR`/rejected.log" template("${MESSAGE}\n")); };
log { source(s_jsonl); parser(p_json); destination(d_ok); flags(final); };
log { source(s_jsonl); destination(d_bad); flags(fallback); };
)";

class SyslogNg {
 public:
  SyslogNg(const std::filesystem::path& binary, const std::filesystem::path& dir, std::uint16_t port)
      : binary_(binary), dir_(dir), port_(port) {
    write_file(dir_ / "jsonlines.conf", kSyslogNgConfig);
  }

  bool start() {
    const std::string out = dir_.string();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{binary_.string(), "-F", "-f", (dir_ / "jsonlines.conf").string(), "-R",
                                 (dir_ / "persist").string(), "-p", (dir_ / "pid").string(), "-c",
                                 (dir_ / "ctl").string()},
        dir_ / "syslog-ng.out", dir_ / "syslog-ng.err",
        std::map<std::string, std::string>{{"OUT_DIR", out}, {"JL_PORT", std::to_string(port_)}});
    return wait_until([&] { return accepts_connections(port_); }, std::chrono::seconds(20));
  }

  void stop() {
    if (process_) {
      process_->send_signal(SIGTERM);
      process_->wait(std::chrono::seconds(20));
      process_.reset();
    }
  }

  ~SyslogNg() { stop(); }

 private:
  std::filesystem::path binary_;
  std::filesystem::path dir_;
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
};

// A TCP sink that keeps what each connection sent. The first connection
// gets a tiny receive buffer, stops reading after `reset_after` bytes and
// is reset, as a receiver that crashes in the middle of a batch.
class ResettingSink {
 public:
  explicit ResettingSink(std::size_t reset_after) : reset_after_(reset_after) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listen_fd_, 8);
    socklen_t length = sizeof(address);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }

  ~ResettingSink() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }

  std::uint16_t port() const { return port_; }
  std::vector<std::string> connections() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

 private:
  void run() {
    while (!stopping_) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) {
        return;
      }
      std::size_t index = 0;
      {
        std::lock_guard lock(mutex_);
        index = received_.size();
        received_.emplace_back();
      }
      const bool reset = index == 0;
      char buffer[4096];
      while (true) {
        const std::size_t room = reset ? std::min(sizeof(buffer), reset_after_ - total(index)) : sizeof(buffer);
        if (room == 0) {
          break;
        }
        const ssize_t count = ::recv(fd, buffer, room, 0);
        if (count <= 0) {
          break;
        }
        std::lock_guard lock(mutex_);
        received_[index].append(buffer, static_cast<std::size_t>(count));
        if (!reset && received_[index].ends_with("\n") && stopping_) {
          break;
        }
      }
      if (reset) {
        const linger abort_on_close{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof(abort_on_close));
      }
      ::close(fd);
    }
  }

  std::size_t total(std::size_t index) const {
    std::lock_guard lock(mutex_);
    return received_[index].size();
  }

  std::size_t reset_after_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<std::string> received_;
};

class LogstashTcpTest : public ::testing::Test {
 protected:
  std::unique_ptr<Output> make_output(const std::string& yaml) {
    const YAML::Node node = YAML::Load(yaml);
    config::Errors errors;
    const std::string context = "output \"logstash\" (logstash)";
    config::check_against_schema(node, LogstashOutputConfig::kSchema, context, "test.yaml", "", errors);
    auto output = LogstashOutput::create(
        config::Section(node, &LogstashOutputConfig::kSchema, context, "test.yaml"), errors);
    EXPECT_FALSE(errors.has_errors()) << errors.format();
    if (output) {
      output->start(context_);
    }
    return output;
  }

  static std::string alerts_text(int first, int last) {
    std::string text;
    for (int record = first; record <= last; ++record) {
      text += alert(record) + "\n";
    }
    return text;
  }

  static std::set<std::string> ids_in(const std::vector<std::string>& lines) {
    static const std::regex kId(R"(0000000c-0000-4000-8000-\d{12})");
    std::set<std::string> ids;
    for (const std::string& line : lines) {
      for (auto match = std::sregex_iterator(line.begin(), line.end(), kId); match != std::sregex_iterator(); ++match) {
        ids.insert(match->str());
      }
    }
    return ids;
  }

  TempDir dir_;
  std::ostringstream log_text_;
  OutputContext context_{ComponentKind::Output, "logstash", "logstash",
                         std::make_shared<spdlog::logger>(
                             "output.logstash.logstash", std::make_shared<spdlog::sinks::ostream_sink_st>(log_text_)),
                         dir_.path(), nullptr};
};

// A batch cut short by a reset is sent again whole on a new connection,
// which starts with the first byte of a line. Every line the second
// connection carries is one whole JSON object, and together they contain
// every alert.
TEST_F(LogstashTcpTest, ResendsWholeBatchAfterReset) {
  ResettingSink sink(3000);
  auto output = make_output(fmt::format("protocol: tcp\nhosts: [\"127.0.0.1:{}\"]\ntimeout_ms: 5000\n", sink.port()));
  ASSERT_NE(output, nullptr);
  auto batch = std::make_shared<Batch>();
  for (int record = 1; record <= 2000; ++record) {
    batch->events.push_back(Event{alert(record), {}});
  }

  const DeliveryResult first = output->deliver(batch, context_);
  ASSERT_EQ(first.status, DeliveryStatus::Retry) << "the reset went unnoticed";
  const DeliveryResult second = output->deliver(batch, context_);
  ASSERT_EQ(second.status, DeliveryStatus::Delivered) << second.reason;

  const auto resent_complete = [&] {
    const std::vector<std::string> connections = sink.connections();
    return connections.size() == 2 && connections[1].size() >= 2000 * 150;
  };
  ASSERT_TRUE(wait_until(resent_complete, std::chrono::seconds(10)));
  const std::string resent = sink.connections()[1];
  ASSERT_FALSE(resent.empty());
  EXPECT_EQ(resent.front(), '{');
  EXPECT_TRUE(resent.ends_with("\n"));
  const std::vector<std::string> lines = lines_of(resent);
  EXPECT_EQ(lines.size(), 2000u);
  for (const std::string& line : lines) {
    const json::ValidateResult checked = json::validate(line);
    ASSERT_TRUE(checked.valid) << line;
    ASSERT_EQ(checked.type, json::Type::Object) << line;
  }
  EXPECT_EQ(ids_in(lines).size(), 2000u);
  EXPECT_LT(sink.connections()[0].size(), 3001u);
}

// Against syslog-ng as a json_lines receiver, every alert arrives as one
// valid JSON line, also across a restart of the receiver while alerts
// keep coming.
TEST_F(LogstashTcpTest, SyslogNgReceivesEveryAlertAcrossRestart) {
  const std::filesystem::path binary = find_syslog_ng();
  if (binary.empty()) {
    GTEST_SKIP() << "syslog-ng is not installed (Debian package syslog-ng-core); it is the real json_lines receiver "
                    "of this test";
  }
  const std::uint16_t port = free_port();
  std::filesystem::create_directories(dir_ / "receiver");
  SyslogNg receiver(binary, dir_ / "receiver", port);
  ASSERT_TRUE(receiver.start()) << read_file(dir_ / "receiver" / "syslog-ng.err");

  write_file(dir_ / "alerts.json", alerts_text(1, 300));
  const std::string yaml = fmt::format(R"(
data_dir: {data}
shutdown_timeout_secs: 2
inputs:
  alerts:
    type: file
    paths: [{alerts}]
    poll_interval_ms: 50
outputs:
  logstash:
    type: logstash
    from: [alerts]
    protocol: tcp
    hosts: ["127.0.0.1:{port}"]
    connect_timeout_ms: 1000
    retry: {{initial_backoff_ms: 50, max_backoff_ms: 300}}
)",
                                       fmt::arg("data", (dir_ / "data").string()),
                                       fmt::arg("alerts", (dir_ / "alerts.json").string()), fmt::arg("port", port));
  config::Errors errors;
  const auto loaded = config::load_pipeline_text(
      yaml, "test.yaml", [](const std::string&) { return std::optional<std::string>(); }, errors);
  ASSERT_TRUE(loaded.has_value()) << errors.format();
  auto pipeline = Pipeline::build(*loaded, errors);
  ASSERT_NE(pipeline, nullptr) << errors.format();
  pipeline->start();

  const std::filesystem::path received = dir_ / "receiver" / "received.jsonl";
  const auto received_ids = [&] { return ids_in(lines_of(read_file(received))).size(); };
  EXPECT_TRUE(wait_until([&] { return received_ids() >= 300; }, kReceiveTimeout)) << received_ids();

  receiver.stop();
  slipway::testing::append_file(dir_ / "alerts.json", alerts_text(301, 600));
  ASSERT_TRUE(receiver.start()) << read_file(dir_ / "receiver" / "syslog-ng.err");
  slipway::testing::append_file(dir_ / "alerts.json", alerts_text(601, 700));
  EXPECT_TRUE(wait_until([&] { return received_ids() >= 700; }, kReceiveTimeout)) << received_ids();
  pipeline->request_stop();
  pipeline->wait();
  receiver.stop();

  const std::vector<std::string> lines = lines_of(read_file(received));
  for (const std::string& line : lines) {
    const json::ParseResult parsed = json::parse(line);
    ASSERT_TRUE(parsed.value.has_value()) << line;
    ASSERT_TRUE(parsed.value->is_object()) << line;
    EXPECT_NE(parsed.value->find("ID"), nullptr) << line;
  }
  EXPECT_EQ(ids_in(lines).size(), 700u);
  EXPECT_EQ(read_file(dir_ / "receiver" / "rejected.log"), "");
}

}  // namespace
}  // namespace slipway::outputs::logstash
