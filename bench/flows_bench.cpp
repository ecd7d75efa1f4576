// Per-flow costs of the labeled-flow path on the records of a real Zeek conn
// log, as JSON events with Zeek's field names: the AID and Community ID
// filters, TSV rows of the file output, and AID then TSV together. Each
// benchmark reports flows per second of one thread.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <yaml-cpp/yaml.h>

#include "config/schema.hpp"
#include "engine/json.hpp"
#include "filters/aid.hpp"
#include "filters/community_id.hpp"
#include "outputs/record_format.hpp"

namespace {

constexpr std::size_t kBatchEvents = 1024;
// The fixture has 766 flows, repeated up to this many events.
constexpr std::size_t kEvents = 64 * 1024;
constexpr const char* kConnLog = SLIPWAY_SHARED_DIR "/fixtures/zeek/conn-ctu-sme-11.log.labeled";
const std::vector<std::string> kTsvColumns = {"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p",
                                              "proto", "label", "aid"};

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find(separator, start)) != std::string::npos; start = end + 1) {
    parts.push_back(text.substr(start, end - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

// One conn record as a JSON event, typed as Zeek's JSON writer types it:
// numbers for time, port, count and interval, booleans, arrays for sets,
// and no member for unset fields.
std::string zeek_record_json(const std::vector<std::string>& names, const std::vector<std::string>& types,
                             const std::vector<std::string>& values) {
  slipway::json::Value record = slipway::json::Value::object();
  for (std::size_t field_idx = 0; field_idx < names.size() && field_idx < values.size(); ++field_idx) {
    const std::string& type = types[field_idx];
    const std::string& value = values[field_idx];
    if (value == "-") {
      continue;
    }
    if (type == "time" || type == "port" || type == "count" || type == "interval") {
      record.set(names[field_idx], slipway::json::Value::number_text(value));
    } else if (type == "bool") {
      record.set(names[field_idx], slipway::json::Value::boolean(value == "T"));
    } else if (type.rfind("set[", 0) == 0) {
      slipway::json::Value items = slipway::json::Value::array();
      if (value != "(empty)") {
        for (const std::string& item : split(value, ',')) {
          items.push_back(slipway::json::Value::string(item));
        }
      }
      record.set(names[field_idx], std::move(items));
    } else {
      record.set(names[field_idx], slipway::json::Value::string(value));
    }
  }
  return slipway::json::to_string(record);
}

std::vector<std::string> load_conn_events() {
  std::ifstream stream(kConnLog);
  std::vector<std::string> names;
  std::vector<std::string> types;
  std::vector<std::string> flows;
  for (std::string line; std::getline(stream, line);) {
    if (line.rfind("#fields\t", 0) == 0) {
      names = split(line.substr(8), '\t');
    } else if (line.rfind("#types\t", 0) == 0) {
      types = split(line.substr(7), '\t');
    } else if (!line.empty() && line[0] != '#' && !names.empty()) {
      flows.push_back(zeek_record_json(names, types, split(line, '\t')));
    }
  }
  std::vector<std::string> events;
  while (!flows.empty() && events.size() < kEvents) {
    events.push_back(flows[events.size() % flows.size()]);
  }
  return events;
}

std::vector<slipway::BatchPtr> batches_of(const std::vector<std::string>& events) {
  std::vector<slipway::BatchPtr> batches;
  for (std::size_t start = 0; start < events.size(); start += kBatchEvents) {
    auto batch = std::make_shared<slipway::Batch>();
    for (std::size_t event_idx = start; event_idx < std::min(events.size(), start + kBatchEvents); ++event_idx) {
      batch->events.push_back(slipway::Event{events[event_idx], {}});
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

const std::vector<slipway::BatchPtr>& conn_batches() {
  static const std::vector<slipway::BatchPtr> batches = batches_of(load_conn_events());
  return batches;
}

// Keeps the last batch a filter emitted, so a benchmark can pass it on.
class LastBatchContext final : public slipway::FilterContext {
 public:
  LastBatchContext()
      : FilterContext(slipway::ComponentKind::Filter, "bench", "bench",
                      std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()), {},
                      nullptr) {}

  void emit(slipway::Batch batch) override { last = std::make_shared<const slipway::Batch>(std::move(batch)); }
  void forward(const slipway::BatchPtr& batch) override { last = batch; }
  void emit_to(std::string_view /*port*/, slipway::Batch batch) override { emit(std::move(batch)); }

  slipway::BatchPtr last;
};

template <typename Config, typename Filter>
std::unique_ptr<Filter> make_filter(const std::string& yaml) {
  const YAML::Node node = YAML::Load(yaml);
  slipway::config::Errors errors;
  return std::make_unique<Filter>(
      Config::parse(slipway::config::Section(node, &Config::kSchema, "filter \"bench\"", "bench.yaml"), errors));
}

bool skip_without_events(benchmark::State& state) {
  if (conn_batches().empty()) {
    state.SkipWithError("the Zeek conn log fixture is absent: " SLIPWAY_SHARED_DIR
                        "/fixtures/zeek/conn-ctu-sme-11.log.labeled");
    return true;
  }
  return false;
}

void set_counters(benchmark::State& state) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
}

void BM_AidPerFlow(benchmark::State& state) {
  if (skip_without_events(state)) {
    return;
  }
  auto filter = make_filter<slipway::filters::AidFilterConfig, slipway::filters::AidFilter>(
      state.range(0) != 0 ? "slips_compatible: true" : "{}");
  LastBatchContext context;
  for (auto _ : state) {
    for (const slipway::BatchPtr& batch : conn_batches()) {
      filter->process(batch, context);
    }
    benchmark::DoNotOptimize(context.last);
  }
  set_counters(state);
}
BENCHMARK(BM_AidPerFlow)->ArgName("slips_compatible")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_CommunityIdPerFlow(benchmark::State& state) {
  if (skip_without_events(state)) {
    return;
  }
  auto filter =
      make_filter<slipway::filters::CommunityIdFilterConfig, slipway::filters::CommunityIdFilter>("{}");
  LastBatchContext context;
  for (auto _ : state) {
    for (const slipway::BatchPtr& batch : conn_batches()) {
      filter->process(batch, context);
    }
    benchmark::DoNotOptimize(context.last);
  }
  set_counters(state);
}
BENCHMARK(BM_CommunityIdPerFlow)->Unit(benchmark::kMillisecond);

slipway::outputs::RecordWriter tsv_writer() {
  slipway::outputs::RecordLayout layout;
  layout.format = slipway::outputs::RecordFormat::Tsv;
  layout.columns = kTsvColumns;
  return slipway::outputs::RecordWriter(layout);
}

void BM_TsvRowPerFlow(benchmark::State& state) {
  if (skip_without_events(state)) {
    return;
  }
  slipway::outputs::RecordWriter writer = tsv_writer();
  std::string buffer;
  for (auto _ : state) {
    for (const slipway::BatchPtr& batch : conn_batches()) {
      buffer.clear();
      writer.append(*batch, buffer);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  set_counters(state);
}
BENCHMARK(BM_TsvRowPerFlow)->Unit(benchmark::kMillisecond);

// AID then a TSV row for every flow on one thread: the per-flow work of a
// Zeek conn log to labeled TSV pipeline apart from reading the log.
void BM_AidThenTsvPerFlow(benchmark::State& state) {
  if (skip_without_events(state)) {
    return;
  }
  auto filter = make_filter<slipway::filters::AidFilterConfig, slipway::filters::AidFilter>("{}");
  LastBatchContext context;
  slipway::outputs::RecordWriter writer = tsv_writer();
  std::string buffer;
  for (auto _ : state) {
    for (const slipway::BatchPtr& batch : conn_batches()) {
      filter->process(batch, context);
      buffer.clear();
      writer.append(*context.last, buffer);
      benchmark::DoNotOptimize(buffer.data());
    }
  }
  set_counters(state);
}
BENCHMARK(BM_AidThenTsvPerFlow)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
