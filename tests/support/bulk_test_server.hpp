// A loopback stand-in for Elasticsearch's _bulk API, which cannot be
// installed here. It replies to POST /_bulk as the API documents: HTTP 200
// with "errors" and one result per item in request order. Each result has
// its status, and a failed item also an error object with type and reason. A
// test scripts the status of each attempt per document _id; unscripted
// items are created (201), or replaced (200) when the _id exists.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "tests/support/http_test_server.hpp"

namespace slipway::testing {

struct BulkItemReply {
  int status = 201;
  std::string error_type;  // e.g. es_rejected_execution_exception
  std::string error_reason;
};

// One action line of a received _bulk body and its source line.
struct BulkItem {
  std::string action;  // index, create, update or delete
  std::string index;
  std::string id;
  std::string source;
};

class BulkTestServer {
 public:
  BulkTestServer();

  HttpTestServer& http() { return server_; }
  std::string url() const { return server_.url("/"); }

  // Replies for the first attempts at the document `id`, in order.
  void script(const std::string& id, std::vector<BulkItemReply> replies);

  // The items of each _bulk request, in the order received.
  std::vector<std::vector<BulkItem>> requests() const;
  // Ids of the documents stored so far.
  std::set<std::string> stored_ids() const;

 private:
  HttpReply reply_to(const ReceivedRequest& request);

  HttpTestServer server_;
  mutable std::mutex mutex_;
  std::map<std::string, std::vector<BulkItemReply>> script_;
  std::map<std::string, std::size_t> attempts_;
  std::set<std::string> stored_;
  std::vector<std::vector<BulkItem>> requests_;
};

// Splits a body into its action and source lines. Returns nothing when it
// is not valid _bulk NDJSON, because a line is not JSON or the last LF is missing.
std::vector<BulkItem> parse_bulk_body(const std::string& body);

}  // namespace slipway::testing
