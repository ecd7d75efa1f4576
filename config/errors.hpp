// Configuration problems with their place in the file. Loading collects
// every problem before it reports, so a user fixes a file in one pass.
#pragma once

#include <string>
#include <vector>

namespace slipway::config {

struct Location {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

enum class Severity { Error, Warning };

struct Problem {
  Location location;
  Severity severity = Severity::Error;
  std::string message;

  // "FILE:LINE:COL: message", or "FILE:LINE:COL: warning: message".
  std::string format() const;
};

class Errors {
 public:
  void add(Location location, std::string message);
  void warn(Location location, std::string message);

  bool has_errors() const;
  const std::vector<Problem>& problems() const { return problems_; }
  // Problems sorted by line and column, one per line.
  std::string format() const;

 private:
  std::vector<Problem> problems_;
};

}  // namespace slipway::config
