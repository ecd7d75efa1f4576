// The TAXII 2.1 requests the `taxii` output makes: discovery, API root and
// collection lookup, adding objects, and polling the status resource. Every
// request carries `Accept: application/taxii+json;version=2.1`, and every
// POST the same Content-Type and a Content-Length (libcurl sends bodies
// with a length, never chunked, which medallion rejects).
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.hpp"
#include "outputs/http/auth.hpp"
#include "outputs/http/http_client.hpp"

namespace slipway::outputs::taxii {

inline constexpr std::string_view kTaxiiMediaType = "application/taxii+json;version=2.1";
inline constexpr std::string_view kStixMediaType = "application/stix+json;version=2.1";

// `reference` resolved against `base` (RFC 3986, for the absolute URLs,
// absolute paths and relative paths servers put in discovery), with a
// trailing slash, which TAXII endpoints need.
std::string resolve_url(std::string_view base, std::string_view reference);

// The outcome of a failed request for the events it carried.
struct RequestFailure {
  long status = 0;  // HTTP status, 0 for a transport failure
  bool retryable = false;
  std::string reason;  // method, URL, status and a short body excerpt
  std::optional<std::chrono::milliseconds> retry_after;
};

// The writable collection the output adds objects to.
struct Collection {
  std::string id;
  std::string title;
  std::string api_root;     // with a trailing slash
  std::string objects_url;  // {api_root}collections/{id}/objects/
  std::size_t max_content_length = 0;  // from the API root; 0 when it gave none
  bool can_read = false;
};

struct ObjectStatus {
  std::string id;
  std::string version;
  std::string message;
};

// A status resource: the server's verdict on each object of a POST.
struct Status {
  std::string id;
  bool complete = false;
  std::int64_t total_count = 0;
  std::int64_t success_count = 0;
  std::int64_t failure_count = 0;
  std::int64_t pending_count = 0;
  std::vector<ObjectStatus> successes;
  std::vector<ObjectStatus> failures;
  std::vector<ObjectStatus> pendings;
};

class Taxii21Client {
 public:
  // `headers` go with every request (Authorization); `redactor` keeps
  // secrets out of the reasons. Both must outlive the client.
  Taxii21Client(http::HttpClient& client, const std::vector<http::Header>& headers,
                const http::SecretRedactor& redactor);

  // Finds `collection` (an id or a title) under `url`, which is a
  // discovery URL or an API root URL, and checks that it can be written.
  // Returns the failure when it cannot; a collection that is missing or
  // read-only fails with retryable false.
  std::optional<RequestFailure> find_collection(std::string_view url, std::string_view collection);
  const Collection& collection() const { return collection_; }

  // POSTs an envelope; returns the status resource of a 202, or the failure.
  struct PostResult {
    std::optional<Status> status;
    RequestFailure failure;
  };
  PostResult add_objects(std::string_view body);

  // GETs the status resource `id` once.
  PostResult get_status(std::string_view id);

  // True when the collection contains object `id` at `version` (any version
  // when empty). Servers such as medallion report a re-sent object as a
  // failure, and this tells such a repeat from a real rejection.
  bool has_object(std::string_view id, std::string_view version);

 private:
  struct Fetched {
    std::optional<json::Value> document;
    RequestFailure failure;
  };
  Fetched get_json(const std::string& url);
  RequestFailure failure_of(std::string_view method, const std::string& url, const http::Result& result) const;
  std::optional<RequestFailure> read_api_root(const std::string& api_root, std::string_view collection,
                                              bool& found);

  http::HttpClient& client_;
  const std::vector<http::Header>& headers_;
  const http::SecretRedactor& redactor_;
  Collection collection_;
};

// Reads a status resource; nothing when `document` is not one.
std::optional<Status> read_status(const json::Value& document);

}  // namespace slipway::outputs::taxii
