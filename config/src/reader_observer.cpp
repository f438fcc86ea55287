// SPDX-License-Identifier: Apache-2.0
// The [observer] table and the [[hook]] tables, with the rules that span their keys: a TCP
// listener off loopback needs a token; a hook has events and exactly one of command and post.
#include "vigil/config/addresses.hpp"

#include "decode.hpp"
#include "reader.hpp"

namespace vigil::config::detail {

void reader::read_observer(const toml::node& node, observer_options& observer) {
  if (!node.is_table()) {
    fail(node.source(), "observer", "expected a table, got " + describe_value(node));
    return;
  }
  targets t;
  t.observer = &observer;
  auto keys = read_table(*node.as_table(), "observer", {section::observer}, t);
  auto listen = keys.find("listen");
  if (listen == keys.end() || !listen->second.valid) {
    return;
  }
  auto address = parse_listen(observer.listen);
  if (address && address->tcp && !is_loopback(address->host) && observer.token.empty()) {
    // Anyone who can reach the port could read the tree and, through the page, act on it.
    fail(listen->second.value, "observer.listen",
         "expected a loopback address (127.0.0.1, [::1]) or a `token` beside it, got \""
             + observer.listen + "\"");
  }
}

void reader::read_hooks(const toml::node& node, std::vector<hook_spec>& hooks) {
  const auto* array = node.as_array();
  const bool tables =
      array != nullptr
      && std::all_of(array->begin(), array->end(), [](const auto& n) { return n.is_table(); });
  if (!tables) {
    fail(node.source(), "hook",
         "expected an array of tables ([[hook]]), got " + describe_value(node));
    return;
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto& table = *(*array)[i].as_table();
    const std::string path = "hook[" + std::to_string(i) + "]";
    hook_spec hook;
    hook.where = where(table.source());
    targets t;
    t.hook = &hook;
    auto keys = read_table(table, path, {section::hook}, t);
    if (!keys.contains("on")) {
      fail(table.source(), path + ".on", "expected the events that run this hook, got none");
    }
    const bool command = keys.contains("command");
    const bool post = keys.contains("post");
    if (command == post) {
      fail(table.source(), path,
           command ? "expected one of command and post, got both"
                   : "expected a command or a post URL, got neither");
    }
    hooks.push_back(std::move(hook));
  }
}

} // namespace vigil::config::detail
