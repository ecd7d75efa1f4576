#include "config/errors.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace slipway::config {

std::string Problem::format() const {
  std::string place = location.file;
  if (location.line > 0) {
    place += fmt::format(":{}", location.line);
    if (location.column > 0) {
      place += fmt::format(":{}", location.column);
    }
  }
  const char* label = severity == Severity::Warning ? "warning: " : "";
  return fmt::format("{}: {}{}", place, label, message);
}

void Errors::add(Location location, std::string message) {
  problems_.push_back(Problem{std::move(location), Severity::Error, std::move(message)});
}

void Errors::warn(Location location, std::string message) {
  problems_.push_back(Problem{std::move(location), Severity::Warning, std::move(message)});
}

bool Errors::has_errors() const {
  return std::any_of(problems_.begin(), problems_.end(),
                     [](const Problem& problem) { return problem.severity == Severity::Error; });
}

std::string Errors::format() const {
  std::vector<const Problem*> sorted;
  for (const Problem& problem : problems_) {
    sorted.push_back(&problem);
  }
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem* left, const Problem* right) {
    if (left->location.file != right->location.file) {
      return left->location.file < right->location.file;
    }
    if (left->location.line != right->location.line) {
      return left->location.line < right->location.line;
    }
    return left->location.column < right->location.column;
  });

  std::string text;
  for (const Problem* problem : sorted) {
    text += problem->format();
    text += '\n';
  }
  return text;
}

}  // namespace slipway::config
