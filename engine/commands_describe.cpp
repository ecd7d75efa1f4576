// `slipway describe`: the reference of every component type, from its schema.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "engine/commands.hpp"
#include "engine/describe.hpp"

namespace slipway::commands {

namespace {

int write_pages(const std::filesystem::path& pages_dir) {
  std::error_code error;
  std::filesystem::create_directories(pages_dir, error);
  if (error) {
    std::fputs(fmt::format("failed to create {}: {}\n", pages_dir.string(), error.message()).c_str(), stderr);
    return kExitFailure;
  }

  std::string index = "# Component reference\n\nOne page per component type, generated from the schemas the "
                      "validator uses (`slipway describe --write-pages docs/components`).\n\n";
  for (const ComponentKind kind : {ComponentKind::Input, ComponentKind::Filter, ComponentKind::Output}) {
    for (const ComponentType* type : Registry::instance().all(kind)) {
      const std::filesystem::path page = pages_dir / describe::page_name(*type);
      std::ofstream stream(page, std::ios::trunc);
      stream << describe::describe_type(*type, describe::Format::Markdown);
      if (!stream) {
        std::fputs(fmt::format("failed to write {}\n", page.string()).c_str(), stderr);
        return kExitFailure;
      }
      index += fmt::format("- [`{}` {}]({}): {}\n", type->name, component_kind_name(kind), describe::page_name(*type),
                           type->summary);
    }
  }

  std::ofstream stream(pages_dir / "README.md", std::ios::trunc);
  stream << index;
  return stream ? kExitOk : kExitFailure;
}

}  // namespace

int describe(const std::string& type_name, bool markdown, const std::filesystem::path& pages_dir) {
  if (!pages_dir.empty()) {
    return write_pages(pages_dir);
  }
  if (type_name.empty()) {
    std::fputs(describe::list_types().c_str(), stdout);
    return kExitOk;
  }

  const std::vector<const ComponentType*> types = describe::find_types(type_name);
  if (types.empty()) {
    std::string message = fmt::format("unknown component type \"{}\"", type_name);
    if (const std::string closest = describe::closest_type_name(type_name); !closest.empty()) {
      message += fmt::format("; did you mean \"{}\"?", closest);
    }
    message += " Run `slipway describe` to list every type.\n";
    std::fputs(message.c_str(), stderr);
    return kExitUsage;
  }
  for (std::size_t index = 0; index < types.size(); ++index) {
    if (index > 0) {
      std::fputs("\n", stdout);
    }
    const auto format = markdown ? describe::Format::Markdown : describe::Format::Text;
    std::fputs(describe::describe_type(*types[index], format).c_str(), stdout);
  }
  return kExitOk;
}

}  // namespace slipway::commands
