#include "outputs/stix_bundle_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "engine/json.hpp"
#include "filters/stix/stix_text.hpp"
#include "outputs/record_format.hpp"
#include "outputs/stix_objects.hpp"

namespace slipway::outputs {

namespace {

// Alerts name hosts and victims, so the file is not world-readable.
constexpr mode_t kFileMode = 0640;
constexpr std::string_view kObjectSeparator = ",\n";

std::string key_of(const StixObject& object) { return object.id + '|' + object.version; }

// Writes `data` to a new file at `path` and forces it to disk; returns errno or 0.
int write_synced(const std::filesystem::path& path, std::string_view data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, kFileMode);
  if (fd < 0) {
    return errno;
  }
  int error = write_fully(fd, data);
  if (error == 0 && ::fsync(fd) != 0) {
    error = errno;
  }
  if (::close(fd) != 0 && error == 0) {
    error = errno;
  }
  return error;
}

}  // namespace

void StixBundleFile::open() {
  std::error_code error;
  if (path_.has_parent_path()) {
    std::filesystem::create_directories(path_.parent_path(), error);
  }
  stix::UuidV5 uuid;
  bundle_id_ = uuid.id("bundle", stix::kSlipwayNamespace, "file/" + std::filesystem::absolute(path_).string());
  if (!std::filesystem::exists(path_)) {
    return;
  }

  std::ifstream stream(path_, std::ios::binary);
  std::ostringstream content;
  content << stream.rdbuf();
  if (content.str().empty()) {
    return;
  }
  const EventObjects existing = read_event_objects(content.str());
  json::ParseResult parsed = json::parse(content.str());
  const json::Value* type = parsed.value ? parsed.value->find("type") : nullptr;
  if (type == nullptr || !type->is_string() || type->as_string() != "bundle" ||
      (!existing.error.empty() && existing.error != "an empty bundle")) {
    throw std::runtime_error(fmt::format("{} exists but is not a STIX bundle ({}); move it away or choose another "
                                         "path, so it is not overwritten",
                                         path_.string(), existing.error.empty() ? "no \"type\": \"bundle\"" : existing.error));
  }
  if (const json::Value* id = parsed.value->find("id"); id != nullptr && id->is_string()) {
    bundle_id_ = id->as_string();
  }
  for (const StixObject& object : existing.objects) {
    if (keys_.insert(key_of(object)).second) {
      objects_ += objects_.empty() ? "" : kObjectSeparator;
      objects_ += object.json;
    }
  }
}

DeliveryResult StixBundleFile::add(const Batch& batch, OutputContext& context) {
  DeliveryResult result = DeliveryResult::delivered();
  const std::size_t size_before = objects_.size();
  std::vector<std::string> added_keys;

  // Append the new objects in memory.
  for (std::size_t index = 0; index < batch.events.size(); ++index) {
    const EventObjects event = read_event_objects(batch.events[index].json);
    if (!event.error.empty()) {
      result.failures.push_back(EventFailure{index, false, "not a STIX object or bundle: " + event.error});
      continue;
    }
    for (const StixObject& object : event.objects) {
      std::string key = key_of(object);
      if (!keys_.insert(key).second) {
        continue;
      }
      added_keys.push_back(std::move(key));
      objects_ += objects_.empty() ? "" : kObjectSeparator;
      objects_ += object.json;
    }
  }
  if (added_keys.empty()) {
    return result;
  }

  // Replace the file; on failure forget what this batch added, so the
  // retry adds it again.
  if (const int error = replace_file(); error != 0) {
    objects_.resize(size_before);
    for (const std::string& key : added_keys) {
      keys_.erase(key);
    }
    return DeliveryResult::retry(fmt::format("replacing {} failed: {}", path_.string(), std::strerror(error)));
  }
  context.log().debug("Replaced the STIX bundle file. path={} objects={} added={}", path_.string(), keys_.size(),
                      added_keys.size());
  return result;
}

int StixBundleFile::replace_file() const {
  // NOTE: every batch rewrites the whole bundle, so the cost grows with the
  // file. A consumer that wants a stream of objects should use format json.
  std::string text = fmt::format("{{\"type\":\"bundle\",\"id\":\"{}\",\"objects\":[\n", bundle_id_);
  text += objects_;
  text += "\n]}\n";

  std::filesystem::path temporary = path_;
  temporary += ".tmp";
  if (const int error = write_synced(temporary, text); error != 0) {
    ::unlink(temporary.c_str());
    return error;
  }
  if (::rename(temporary.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    return error;
  }

  // The rename itself reaches the disk only with the directory.
  const std::filesystem::path directory = path_.has_parent_path() ? path_.parent_path() : ".";
  const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd >= 0) {
    ::fsync(directory_fd);
    ::close(directory_fd);
  }
  return 0;
}

}  // namespace slipway::outputs
