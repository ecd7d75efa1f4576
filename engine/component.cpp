#include "engine/component.hpp"

#include "engine/dead_letter.hpp"

namespace slipway {

const char* component_kind_name(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::Input:
      return "input";
    case ComponentKind::Filter:
      return "filter";
    case ComponentKind::Output:
      return "output";
  }
  return "component";
}

ComponentContext::ComponentContext(ComponentKind kind, std::string id, std::string type,
                                   std::shared_ptr<spdlog::logger> log, std::filesystem::path data_dir,
                                   std::shared_ptr<DeadLetterQueue> dead_letters)
    : kind_(kind),
      id_(std::move(id)),
      type_(std::move(type)),
      log_(std::move(log)),
      data_dir_(std::move(data_dir)),
      dead_letters_(std::move(dead_letters)) {}

void ComponentContext::dead_letter(std::string_view raw, const EventOrigin& origin, std::string_view reason) {
  metrics_.dead_lettered_events.fetch_add(1, std::memory_order_relaxed);
  if (!dead_letters_) {
    log_->error("Record lost: no dead-letter file is configured. reason=\"{}\"", reason);
    metrics_.errors.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const DeadLetter letter{component_kind_name(kind_), id_, type_, reason, raw, &origin};
  if (!dead_letters_->write(letter)) {
    metrics_.errors.fetch_add(1, std::memory_order_relaxed);
    log_->error("Writing the dead-letter file failed; the record is lost. path={} reason=\"{}\"",
                dead_letters_->path().string(), reason);
  }
}

}  // namespace slipway
