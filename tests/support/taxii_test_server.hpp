// Loopback TAXII servers for the taxii output's tests, on HttpTestServer.
//
// Taxii21TestServer follows TAXII 2.1 as medallion 3.0 and OpenTAXII 0.9
// implement it: discovery at /taxii2/, one API root at /api1/ with a
// max_content_length, a writable collection and a read-only one, adding
// objects (202 with a status resource), the status resource, and reading
// one object's versions. Its error responses are those of the reference
// servers: 401 without the right Basic credentials, 403 for a read-only
// collection, 404 for unknown paths, 406 for an Accept without the TAXII
// media type, 415 for another Content-Type, 413 above max_content_length,
// 400 for a chunked upload and 422 for a body that is not an envelope.
// Objects whose description contains "reject-me", or that lack an id or
// spec_version 2.1, are reported as failures in the status resource. It
// keeps one copy of each id and version.
//
// Taxii11TestServer is a TAXII 1.1 inbox service: it checks the X-TAXII
// headers and the Inbox_Message and returns a Status_Message with HTTP 200,
// SUCCESS or FAILURE.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/http_test_server.hpp"

namespace slipway::testing {

class Taxii21TestServer {
 public:
  static constexpr std::string_view kCollectionId = "c0ffee00-0000-4000-8000-000000000001";
  static constexpr std::string_view kReadOnlyCollectionId = "c0ffee00-0000-4000-8000-000000000002";

  struct Options {
    std::size_t max_content_length = 4096;
    // The size above which a POST gets 413; 0 means max_content_length. A
    // smaller value stands for a proxy in front with a lower limit.
    std::size_t enforced_content_length = 0;
    // Error bodies in text/html, as servers behind some proxies send them.
    bool html_errors = false;
    std::string user;      // with a password: Basic authentication required
    std::string password;
    std::string token;     // Bearer authentication required
    // Status GETs that still return "pending" before the status completes.
    int pending_polls = 0;
    // medallion reports an id and version it already stores as a failure.
    bool report_repeats_as_failures = false;
    // OpenTAXII lists API roots as paths relative to the server.
    bool relative_api_roots = false;
    // A POST holding an object whose description contains this text gets
    // 422 for the whole envelope, as a server that cannot process it would.
    std::string unprocessable_marker;
  };

  explicit Taxii21TestServer(Options options);

  std::string discovery_url() const { return http_.url("/taxii2/"); }
  std::string api_root_url() const { return http_.url("/api1/"); }
  HttpTestServer& http() { return http_; }

  // Stored objects of `type` (all types when empty), by "id|version".
  std::vector<std::string> stored(std::string_view type = "") const;
  // How often an id was POSTed, over all requests.
  std::map<std::string, int> posted_ids() const;
  // Statuses of the replies, in order.
  std::vector<int> reply_statuses() const;

 private:
  struct PendingStatus {
    int polls_left = 0;
    std::string complete_body;
  };

  HttpReply respond(const ReceivedRequest& request);
  HttpReply add_objects(const ReceivedRequest& request, std::string_view collection);
  HttpReply get_object(std::string_view collection, std::string_view object_id, std::string_view query);
  HttpReply error(int status, std::string_view title) const;
  HttpReply resource(int status, std::string body) const;
  bool authorized(const ReceivedRequest& request) const;

  Options options_;
  HttpTestServer http_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> store_;  // "id|version" -> object JSON
  std::map<std::string, int> posted_ids_;
  std::map<std::string, PendingStatus> statuses_;
  std::vector<int> reply_statuses_;
  int next_status_ = 0;
};

class Taxii11TestServer {
 public:
  // Messages to `collection` at /services/inbox succeed unless a content
  // block contains `failure_marker`, which makes the whole message FAILURE.
  Taxii11TestServer(std::string collection, std::string failure_marker);

  std::string inbox_url() const { return http_.url("/services/inbox"); }
  HttpTestServer& http() { return http_; }
  // Content blocks accepted, in order.
  std::vector<std::string> accepted_blocks() const;
  std::vector<std::string> status_types() const;

 private:
  HttpReply respond(const ReceivedRequest& request);

  std::string collection_;
  std::string failure_marker_;
  HttpTestServer http_;
  mutable std::mutex mutex_;
  std::vector<std::string> accepted_blocks_;
  std::vector<std::string> status_types_;
};

}  // namespace slipway::testing
