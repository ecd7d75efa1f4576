#include "outputs/taxii/taxii21.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "engine/delivery.hpp"

namespace slipway::outputs::taxii {

namespace {

constexpr long kOk = 200;
constexpr long kAccepted = 202;
constexpr long kNotFound = 404;

std::string string_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

std::int64_t integer_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_number() ? value->as_int().value_or(0) : 0;
}

bool boolean_member(const json::Value& object, std::string_view key) {
  const json::Value* value = object.find(key);
  return value != nullptr && value->is_bool() && value->as_bool();
}

std::vector<ObjectStatus> object_statuses(const json::Value& document, std::string_view key) {
  std::vector<ObjectStatus> statuses;
  const json::Value* list = document.find(key);
  if (list == nullptr || !list->is_array()) {
    return statuses;
  }
  for (const json::Value& item : list->items()) {
    if (item.is_object()) {
      statuses.push_back(
          ObjectStatus{string_member(item, "id"), string_member(item, "version"), string_member(item, "message")});
    }
  }
  return statuses;
}

// Percent-encodes a query value: STIX ids and timestamps hold only ':'
// and '.' beyond letters, digits and '-', but a server's text may not.
std::string encode_query_value(std::string_view value) {
  std::string out;
  for (const char character : value) {
    const auto byte = static_cast<unsigned char>(character);
    if (std::isalnum(byte) != 0 || character == '-' || character == '.' || character == '_' || character == '~') {
      out += character;
    } else {
      out += fmt::format("%{:02X}", byte);
    }
  }
  return out;
}

}  // namespace

std::string resolve_url(std::string_view base, std::string_view reference) {
  std::string resolved;
  const std::size_t scheme_end = base.find("://");
  if (reference.starts_with("http://") || reference.starts_with("https://") || scheme_end == std::string_view::npos) {
    resolved = std::string(reference);
  } else if (reference.starts_with("/")) {
    const std::size_t path_start = base.find('/', scheme_end + 3);
    resolved = std::string(base.substr(0, path_start)) + std::string(reference);
  } else {
    const std::size_t last_slash = base.rfind('/');
    resolved = std::string(base.substr(0, last_slash + 1)) + std::string(reference);
  }
  if (!resolved.ends_with('/')) {
    resolved += '/';
  }
  return resolved;
}

std::optional<Status> read_status(const json::Value& document) {
  if (!document.is_object() || document.find("status") == nullptr) {
    return std::nullopt;
  }
  Status status;
  status.id = string_member(document, "id");
  status.complete = string_member(document, "status") == "complete";
  status.total_count = integer_member(document, "total_count");
  status.success_count = integer_member(document, "success_count");
  status.failure_count = integer_member(document, "failure_count");
  status.pending_count = integer_member(document, "pending_count");
  status.successes = object_statuses(document, "successes");
  status.failures = object_statuses(document, "failures");
  status.pendings = object_statuses(document, "pendings");
  return status;
}

Taxii21Client::Taxii21Client(http::HttpClient& client, const std::vector<http::Header>& headers,
                             const http::SecretRedactor& redactor)
    : client_(client), headers_(headers), redactor_(redactor) {}

RequestFailure Taxii21Client::failure_of(std::string_view method, const std::string& url,
                                         const http::Result& result) const {
  RequestFailure failure;
  const std::string shown_url = http::url_for_messages(url);
  if (!result.response) {
    failure.retryable = result.retryable;
    failure.reason = fmt::format("{} {} failed: {}: {}", method, shown_url, http::transport_failure_name(result.failure),
                                 result.error);
    return failure;
  }
  const http::Response& response = *result.response;
  failure.status = response.status;
  failure.retryable = is_retryable_http_status(response.status);
  failure.reason = fmt::format("{} {} returned {}", method, shown_url, response.status);
  if (const std::string text = redactor_.excerpt(response.body); !text.empty()) {
    failure.reason += ": " + text;
  }
  if (failure.retryable) {
    if (const auto value = response.header("Retry-After")) {
      failure.retry_after = parse_retry_after(*value, std::chrono::system_clock::now());
    }
  }
  return failure;
}

Taxii21Client::Fetched Taxii21Client::get_json(const std::string& url) {
  std::vector<http::Header> headers = headers_;
  headers.push_back(http::Header{"Accept", std::string(kTaxiiMediaType)});
  const http::Result result = client_.send(http::Request{"GET", url, headers, {}});
  Fetched fetched;
  if (!result.response || result.response->status != kOk) {
    fetched.failure = failure_of("GET", url, result);
    if (result.response && result.response->status >= 200 && result.response->status <= 299) {
      fetched.failure.reason += "; expected 200";
    }
    return fetched;
  }
  json::ParseResult parsed = json::parse(result.response->body);
  if (!parsed.value || !parsed.value->is_object()) {
    fetched.failure.reason = fmt::format("GET {} returned a body that is not a JSON object: {}",
                                         http::url_for_messages(url), redactor_.excerpt(result.response->body));
    return fetched;
  }
  fetched.document = std::move(parsed.value);
  return fetched;
}

std::optional<RequestFailure> Taxii21Client::find_collection(std::string_view url, std::string_view collection) {
  collection_ = Collection{};
  const std::string start = resolve_url(url, "");
  Fetched fetched = get_json(start);
  if (!fetched.document) {
    return fetched.failure;
  }

  // A discovery resource lists API roots; an API root has versions.
  std::vector<std::string> api_roots;
  if (const json::Value* roots = fetched.document->find("api_roots"); roots != nullptr && roots->is_array()) {
    const std::string preferred = string_member(*fetched.document, "default");
    if (!preferred.empty()) {
      api_roots.push_back(resolve_url(start, preferred));
    }
    for (const json::Value& root : roots->items()) {
      if (root.is_string()) {
        const std::string resolved = resolve_url(start, root.as_string());
        if (std::find(api_roots.begin(), api_roots.end(), resolved) == api_roots.end()) {
          api_roots.push_back(resolved);
        }
      }
    }
  } else if (fetched.document->find("versions") != nullptr) {
    api_roots.push_back(start);
  } else {
    return RequestFailure{0, false,
                          fmt::format("GET {} returned neither a TAXII 2.1 discovery resource (api_roots) nor an API "
                                      "root (versions); set url to the server's discovery URL, e.g. "
                                      "https://taxii.example/taxii2/",
                                      http::url_for_messages(start)),
                          std::nullopt};
  }

  for (const std::string& api_root : api_roots) {
    bool found = false;
    if (std::optional<RequestFailure> failure = read_api_root(api_root, collection, found)) {
      return failure;
    }
    if (found) {
      return std::nullopt;
    }
  }
  return RequestFailure{0, false,
                        fmt::format("no collection with id or title \"{}\" under {} ({} API roots searched); check "
                                    "the collection key against the server's collections",
                                    collection, http::url_for_messages(start), api_roots.size()),
                        std::nullopt};
}

std::optional<RequestFailure> Taxii21Client::read_api_root(const std::string& api_root, std::string_view collection,
                                                           bool& found) {
  Fetched root = get_json(api_root);
  if (!root.document) {
    return root.failure;
  }
  Fetched listing = get_json(api_root + "collections/");
  if (!listing.document) {
    // A root with no collections may answer 404.
    return listing.failure.status == kNotFound ? std::nullopt : std::optional(listing.failure);
  }
  const json::Value* collections = listing.document->find("collections");
  if (collections == nullptr || !collections->is_array()) {
    return std::nullopt;  // medallion returns {} for a root without collections
  }

  // An id match wins over a title match: titles need not be unique.
  const json::Value* match = nullptr;
  for (const json::Value& item : collections->items()) {
    if (string_member(item, "id") == collection) {
      match = &item;
      break;
    }
    if (match == nullptr && string_member(item, "title") == collection) {
      match = &item;
    }
  }
  if (match == nullptr) {
    return std::nullopt;
  }
  found = true;
  Collection& chosen = collection_;
  chosen.id = string_member(*match, "id");
  chosen.title = string_member(*match, "title");
  chosen.api_root = api_root;
  chosen.objects_url = api_root + "collections/" + chosen.id + "/objects/";
  chosen.can_read = boolean_member(*match, "can_read");
  chosen.max_content_length = static_cast<std::size_t>(std::max<std::int64_t>(0, integer_member(*root.document, "max_content_length")));
  if (!boolean_member(*match, "can_write")) {
    return RequestFailure{403, false,
                          fmt::format("collection \"{}\" ({}) under {} has can_write false for these credentials; "
                                      "ask the server's administrator for write access or choose another collection",
                                      chosen.title, chosen.id, http::url_for_messages(api_root)),
                          std::nullopt};
  }
  return std::nullopt;
}

Taxii21Client::PostResult Taxii21Client::add_objects(std::string_view body) {
  std::vector<http::Header> headers = headers_;
  headers.push_back(http::Header{"Accept", std::string(kTaxiiMediaType)});
  headers.push_back(http::Header{"Content-Type", std::string(kTaxiiMediaType)});
  const http::Result result = client_.send(http::Request{"POST", collection_.objects_url, headers, body});
  PostResult post;
  if (!result.response || result.response->status != kAccepted) {
    post.failure = failure_of("POST", collection_.objects_url, result);
    return post;
  }
  json::ParseResult parsed = json::parse(result.response->body);
  post.status = parsed.value ? read_status(*parsed.value) : std::nullopt;
  if (!post.status) {
    // The objects may have been stored; re-sending them is harmless, since
    // the server keeps one copy per id and version.
    post.failure.retryable = true;
    post.failure.reason = fmt::format("POST {} returned 202 without a status resource: {}",
                                      http::url_for_messages(collection_.objects_url),
                                      redactor_.excerpt(result.response->body));
  }
  return post;
}

Taxii21Client::PostResult Taxii21Client::get_status(std::string_view id) {
  const std::string url = collection_.api_root + "status/" + std::string(id) + "/";
  Fetched fetched = get_json(url);
  PostResult result;
  if (!fetched.document) {
    result.failure = fetched.failure;
    result.failure.retryable = true;  // the objects stay pending; sending them again is harmless
    return result;
  }
  result.status = read_status(*fetched.document);
  if (!result.status) {
    result.failure.retryable = true;
    result.failure.reason = fmt::format("GET {} returned no status resource", http::url_for_messages(url));
  }
  return result;
}

bool Taxii21Client::has_object(std::string_view id, std::string_view version) {
  std::string url = collection_.objects_url + std::string(id) + "/";
  if (!version.empty()) {
    url += "?match%5Bversion%5D=" + encode_query_value(version);
  }
  const Fetched fetched = get_json(url);
  if (!fetched.document) {
    return false;
  }
  const json::Value* objects = fetched.document->find("objects");
  return objects != nullptr && objects->is_array() && !objects->items().empty();
}

}  // namespace slipway::outputs::taxii
