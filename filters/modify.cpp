#include "filters/modify.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "engine/registry.hpp"
#include "filters/filter_support.hpp"

namespace slipway::filters {

namespace {

// Whether the object text has at least one member, so that an appended member needs a comma.
bool has_members(std::string_view object_text) {
  const std::size_t open = object_text.find('{');
  const std::size_t next = object_text.find_first_not_of(" \t\r\n", open + 1);
  return next != std::string_view::npos && object_text[next] != '}';
}

struct AssignedValue {
  std::optional<json::Value> constant;
  std::optional<FieldTemplate> value_template;
};

// Reads settings of one filter, reporting each problem and remembering
// that there was one.
class ModifyParser {
 public:
  ModifyParser(const config::Section& settings, config::Errors& errors) : settings_(settings), errors_(errors) {}

  bool valid() const { return valid_; }

  std::vector<FieldMove> moves(const std::string& key, bool source_is_removed) {
    std::vector<FieldMove> result;
    const YAML::Node mapping = mapping_at(key, "source path: target path");
    for (const auto& entry : mapping) {
      const std::string source_key = key + "." + entry.first.Scalar();
      std::optional<FieldPath> from = path_at(entry.first, source_key, source_is_removed);
      if (!entry.second.IsScalar()) {
        error(entry.second, source_key, "expected a target field path, got a list or mapping");
        continue;
      }
      std::optional<FieldPath> to = path_at(entry.second, source_key, false);
      if (from && to) {
        result.push_back(FieldMove{std::move(*from), std::move(*to)});
      }
    }
    return result;
  }

  std::vector<FieldAssignment> assignments() {
    std::vector<FieldAssignment> result;
    const YAML::Node mapping = mapping_at("set", "target path: value");
    for (const auto& entry : mapping) {
      const std::string key = "set." + entry.first.Scalar();
      std::optional<FieldPath> target = path_at(entry.first, key, false);
      std::optional<AssignedValue> value = value_at(entry.second, key);
      if (target && value) {
        result.push_back(
            FieldAssignment{std::move(*target), std::move(value->constant), std::move(value->value_template)});
      }
    }
    return result;
  }

  std::vector<FieldPath> removals() {
    std::vector<FieldPath> result;
    if (!settings_.has("remove")) {
      return result;
    }
    const YAML::Node list = settings_.node()["remove"];
    const auto add = [&](const YAML::Node& item, const std::string& key) {
      if (std::optional<FieldPath> path = path_at(item, key, true)) {
        result.push_back(std::move(*path));
      }
    };
    if (list.IsScalar()) {
      add(list, "remove");
      return result;
    }
    for (std::size_t item_idx = 0; item_idx < list.size(); ++item_idx) {
      add(list[item_idx], fmt::format("remove[{}]", item_idx));
    }
    return result;
  }

 private:
  void error(const YAML::Node& at, const std::string& key, const std::string& what) {
    errors_.add(location_of(at, settings_), fmt::format("{}: key \"{}\": {}", settings_.context(), key, what));
    valid_ = false;
  }

  YAML::Node mapping_at(const std::string& key, std::string_view shape) {
    if (!settings_.has(key)) {
      return YAML::Node(YAML::NodeType::Map);
    }
    const YAML::Node node = settings_.node()[key];
    if (!node.IsMap()) {
      error(node, key, fmt::format("expected a mapping of {}", shape));
      return YAML::Node(YAML::NodeType::Map);
    }
    return node;
  }

  std::optional<FieldPath> path_at(const YAML::Node& node, const std::string& key, bool removes_member) {
    std::string problem;
    std::optional<FieldPath> path = FieldPath::parse(node.Scalar(), problem);
    if (!path) {
      error(node, key, fmt::format("invalid field path \"{}\": {}", node.Scalar(), problem));
      return std::nullopt;
    }
    if (removes_member && !path->ends_with_name()) {
      error(node, key,
            fmt::format("\"{}\" ends with an array index, but only object members can be removed", node.Scalar()));
      return std::nullopt;
    }
    return path;
  }

  // YAML decides the type of a plain scalar: 3 is a number, true a
  // boolean; quoting makes any value a string.
  std::optional<AssignedValue> value_at(const YAML::Node& node, const std::string& key) {
    AssignedValue assignment;
    if (!node.IsScalar() && !node.IsNull()) {
      error(node, key,
            "expected a string, number, boolean, null or template; lists and mappings cannot be set (a template "
            "must be quoted, as YAML reads {{ as the start of a mapping)");
      return std::nullopt;
    }
    const std::string text = node.IsNull() ? std::string() : node.Scalar();
    const bool plain = node.Tag() != "!";
    if (node.IsNull() || (plain && (text == "null" || text == "~"))) {
      assignment.constant = json::Value();
      return assignment;
    }
    if (plain && (text == "true" || text == "false")) {
      assignment.constant = json::Value::boolean(text == "true");
      return assignment;
    }
    if (plain && is_json_number(text)) {
      assignment.constant = json::Value::number_text(text);
      return assignment;
    }

    std::string problem;
    std::optional<FieldTemplate> parsed = FieldTemplate::parse(text, problem);
    if (!parsed) {
      error(node, key, fmt::format("invalid template \"{}\": {}", text, problem));
      return std::nullopt;
    }
    if (parsed->is_constant()) {
      assignment.constant = json::Value::string(text);
    } else {
      assignment.value_template = std::move(*parsed);
    }
    return assignment;
  }

  const config::Section& settings_;
  config::Errors& errors_;
  bool valid_ = true;
};

}  // namespace

const config::Schema ModifyConfig::kSchema{{
    config::Field{.name = "rename",
                  .type = config::FieldType::Object,
                  .doc = "Members to move, as old path: new path; applied first"},
    config::Field{.name = "copy",
                  .type = config::FieldType::Object,
                  .doc = "Values to copy, as source path: target path; applied second"},
    config::Field{.name = "set",
                  .type = config::FieldType::Object,
                  .doc = "Values to write, as target path: value; a quoted value may hold templates such as "
                         "\"{{ Source[0].IP4[0] }}\" or \"{{ now | %Y-%m-%dT%H:%M:%SZ }}\"; applied third"},
    config::Field{.name = "remove",
                  .type = config::FieldType::StringList,
                  .doc = "Paths of members to delete; applied last"},
}};

std::optional<ModifyConfig> ModifyConfig::parse(const config::Section& settings, config::Errors& errors) {
  ModifyParser parser(settings, errors);
  ModifyConfig config;
  config.rename = parser.moves("rename", true);
  config.copy = parser.moves("copy", false);
  config.set = parser.assignments();
  config.remove = parser.removals();
  if (!parser.valid()) {
    return std::nullopt;
  }
  if (config.rename.empty() && config.copy.empty() && config.set.empty() && config.remove.empty()) {
    errors.add(location_of(settings.node(), settings),
               fmt::format("{}: nothing to change; add at least one of rename, copy, set, remove",
                           settings.context()));
    return std::nullopt;
  }
  return config;
}

ModifyFilter::ModifyFilter(ModifyConfig config, std::shared_ptr<Clock> clock)
    : config_(std::move(config)), clock_(std::move(clock)) {
  appends_only_ = config_.rename.empty() && config_.copy.empty() && config_.remove.empty();
  for (const FieldAssignment& step : config_.set) {
    const bool top_level = step.target.steps().size() == 1;
    const std::string& name = step.target.steps().front().name;
    const bool read_by_template = std::any_of(config_.set.begin(), config_.set.end(), [&](const FieldAssignment& other) {
      return other.value_template && other.value_template->reads_member(name);
    });
    appends_only_ = appends_only_ && top_level && !read_by_template;
  }

  if (appends_only_) {
    std::vector<std::string> names;
    for (const FieldAssignment& step : config_.set) {
      names.push_back(step.target.steps().front().name);
      if (step.value_template) {
        step.value_template->add_top_level_names(names);
      }
    }
    append_parser_.emplace(std::move(names));
  }
}

std::unique_ptr<Filter> ModifyFilter::create(const config::Section& settings, config::Errors& errors) {
  std::optional<ModifyConfig> config = ModifyConfig::parse(settings, errors);
  if (!config) {
    return nullptr;
  }
  return std::make_unique<ModifyFilter>(std::move(*config));
}

bool ModifyFilter::apply(json::Value& document, std::int64_t now_micros) {
  bool changed = false;
  const auto move_value = [&](const FieldMove& step, bool remove_source) {
    const json::Value* source = step.from.find(document);
    if (source == nullptr) {
      counters_.missing_fields.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    // A copy, because assigning can move the source's storage.
    if (!step.to.assign(document, json::Value(*source))) {
      counters_.type_mismatches.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (remove_source) {
      step.from.erase(document);
    }
    changed = true;
  };

  for (const FieldMove& step : config_.rename) {
    move_value(step, true);
  }
  for (const FieldMove& step : config_.copy) {
    move_value(step, false);
  }
  for (const FieldAssignment& step : config_.set) {
    std::optional<json::Value> value =
        step.constant ? step.constant : step.value_template->render(document, now_micros, counters_);
    if (!value) {
      continue;
    }
    const json::Value* existing = step.target.find(document);
    if (existing != nullptr && *existing == *value) {
      continue;
    }
    if (!step.target.assign(document, std::move(*value))) {
      counters_.type_mismatches.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    changed = true;
  }
  for (const FieldPath& path : config_.remove) {
    changed = path.erase(document) || changed;
  }
  return changed;
}

bool ModifyFilter::append_members(const Event& event, const json::Value& document, std::int64_t now_micros,
                                  std::string& out) {
  if (!document.is_object()) {
    return false;
  }
  for (const FieldAssignment& step : config_.set) {
    if (document.find(step.target.steps().front().name) != nullptr) {
      return false;
    }
  }

  std::string members;
  for (const FieldAssignment& step : config_.set) {
    std::optional<json::Value> value =
        step.constant ? step.constant : step.value_template->render(document, now_micros, counters_);
    if (!value) {
      continue;
    }
    members += ',';
    json::append_quoted(step.target.steps().front().name, members);
    members += ':';
    json::write(*value, members);
  }
  if (members.empty()) {
    out.clear();
    return true;
  }
  // An input event is exactly one object, so its last '}' closes it.
  const std::size_t close = event.json.rfind('}');
  out.reserve(close + members.size() + 1);
  out.assign(event.json, 0, close);
  out.append(members, has_members(event.json) ? 0 : 1);
  out += '}';
  return true;
}

void ModifyFilter::process(const BatchPtr& batch, FilterContext& context) {
  const std::int64_t now_micros = clock_->wall_micros();
  std::optional<Batch> changed_batch;
  for (std::size_t event_idx = 0; event_idx < batch->events.size(); ++event_idx) {
    const Event& event = batch->events[event_idx];
    std::optional<json::Value> document =
        append_parser_ ? append_parser_->parse(event, context) : parse_event(event, context);
    const bool dead_lettered = !document;
    std::string appended_text;
    const bool appended = document && appends_only_ && append_members(event, *document, now_micros, appended_text);
    if (document && append_parser_ && !appended) {
      // The member exists already, so the event is rewritten from its whole document.
      document = parse_event(event, context);
    }
    const bool changed = appended ? !appended_text.empty() : document && apply(*document, now_micros);
    if (!changed && !dead_lettered && !changed_batch) {
      continue;
    }

    // The first change or dead letter: copy the events passed so far.
    if (!changed_batch) {
      changed_batch.emplace();
      changed_batch->events.reserve(batch->events.size());
      changed_batch->events.assign(batch->events.begin(), batch->events.begin() + static_cast<std::ptrdiff_t>(event_idx));
      changed_batch->acks = batch->acks;
    }
    if (dead_lettered) {
      continue;
    }
    if (!changed) {
      changed_batch->events.push_back(event);
      continue;
    }
    if (appended) {
      changed_batch->events.push_back(Event{std::move(appended_text), event.origin});
      continue;
    }
    Event& written = changed_batch->events.emplace_back(Event{std::string(), event.origin});
    written.json.reserve(event.json.size() + event.json.size() / 4);
    json::write(*document, written.json);
  }

  if (changed_batch) {
    context.emit(std::move(*changed_batch));
  } else {
    context.forward(batch);
  }
}

void ModifyFilter::finish(FilterContext& context) { log_match_counters(counters_, context); }

SLIPWAY_REGISTER_FILTER("modify", "Renames, copies, sets and removes fields of every event", ModifyConfig::kSchema,
                        &ModifyFilter::create);

}  // namespace slipway::filters
