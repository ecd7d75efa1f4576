// The file output's `stix_bundle` format: one STIX 2.1 bundle in one file,
// as Slips' STIX_data.json, that grows with every batch. Each batch
// replaces the file atomically (write a temporary file, fsync it, rename it
// over the old one, fsync the directory), so a reader sees the old bundle
// or the new one and never a half-written file. An object whose id and
// version the bundle already has is not added again.
#pragma once

#include <filesystem>
#include <string>
#include <unordered_set>

#include "engine/component.hpp"

namespace slipway::outputs {

class StixBundleFile {
 public:
  explicit StixBundleFile(std::filesystem::path path) : path_(std::move(path)) {}

  // Reads the objects of an existing bundle at the path, so a restart
  // keeps them. Throws std::runtime_error naming the file when it exists
  // but is not a STIX bundle, rather than overwriting it.
  void open();

  // Adds the objects of the batch's events and replaces the file. Events
  // that are not STIX are reported as failures for the dead-letter file. An
  // I/O error leaves the file and the bundle as they were and returns Retry.
  DeliveryResult add(const Batch& batch, OutputContext& context);

  std::size_t object_count() const { return keys_.size(); }

 private:
  // Writes the bundle to a temporary file beside the path and renames it
  // over the path; returns errno, or 0 on success.
  int replace_file() const;

  std::filesystem::path path_;
  std::string bundle_id_;
  std::string objects_;  // the compact objects, joined by ",\n"
  std::unordered_set<std::string> keys_;  // "id|version" of every object
};

}  // namespace slipway::outputs
