// `slipway test`: unit tests for the filters of a pipeline file, written
// as YAML. A test file lists cases; each names a filter of the pipeline,
// the events it receives and the events expected on each of its ports:
//
//   tests:
//     - name: incidents reach the notify route
//       component: by_status
//       input:
//         - {ID: a1, Status: Incident}
//       expected:                 # the default port
//         - {ID: a1, Status: Incident, sensor: lab-1}
//       expected_ports:           # named ports, for route filters
//         incidents: [{ID: a1, Status: Incident}]
//
// Events are YAML mappings or JSON text. Objects compare by content, so
// the order of members does not matter; arrays compare in order.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "engine/commands.hpp"

namespace slipway::pipeline_tests {

struct CaseResult {
  std::string name;
  bool passed = false;
  std::string diff;  // what differed, one line per difference; empty when passed
};

// Runs every case of `test_file` against the filters of `pipeline_file`.
// Problems with either file go to `errors` as FILE:LINE:COL lines and no
// case runs.
std::vector<CaseResult> run_file(const std::filesystem::path& pipeline_file, const std::filesystem::path& test_file,
                                 std::string& errors);

// Describes how `actual` differs from `expected`, both JSON texts: one line
// per differing field path, e.g. `Source[0].IP4[0]: expected "1.2.3.4", got "1.2.3.5"`.
std::string describe_difference(const std::string& expected, const std::string& actual);

// Runs the `slipway test` command: prints PASS or FAIL per case, the diff of
// each failure and a total. Returns 0 when every case passed, 1 when one
// failed, and 78 for a bad pipeline or test file.
int run(const std::filesystem::path& pipeline_file, const std::vector<std::filesystem::path>& test_files,
        const commands::GlobalOptions& options);

}  // namespace slipway::pipeline_tests
