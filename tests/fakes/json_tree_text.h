// json_tree_text(tree): a JsonTree written out as text that names every node's type and
// value (strings byte for byte, hex-escaped outside printable ASCII), so that two trees can be
// compared with ==. For the differential tests of JsonTree's two parse paths.
#pragma once

#include <cstdio>
#include <string>

#include "tokenization/json_tree.h"

namespace tokenizer::testing {

inline void append_json_node_text(const JsonTree& tree, const JsonNode& node, std::string& out) {
  const auto append_string = [&out](std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        out += static_cast<char>(c);
      } else {
        char hex[5];
        std::snprintf(hex, sizeof hex, "\\x%02x", c);
        out += hex;
      }
    }
    out += '"';
  };
  switch (node.type()) {
    case JsonNode::Type::null: out += "null"; break;
    case JsonNode::Type::boolean: out += node.as_bool() ? "true" : "false"; break;
    case JsonNode::Type::number_unsigned: out += "u" + std::to_string(node.as_unsigned()); break;
    case JsonNode::Type::number_integer: out += "i" + std::to_string(node.as_integer()); break;
    case JsonNode::Type::number_float: out += "float"; break;
    case JsonNode::Type::string: append_string(node.as_string()); break;
    case JsonNode::Type::array: {
      out += '[';
      const auto [begin, end] = tree.elements(node);
      for (const JsonNode* e = begin; e != end; ++e) {
        append_json_node_text(tree, *e, out);
        out += ',';
      }
      out += ']';
      break;
    }
    case JsonNode::Type::object: {
      out += '{';
      const auto [begin, end] = tree.members(node);
      for (const JsonNode* m = begin; m != end; m += 2) {
        append_json_node_text(tree, m[0], out);
        out += ':';
        append_json_node_text(tree, m[1], out);
        out += ',';
      }
      out += '}';
      break;
    }
  }
  out += '/' + std::to_string(node.size());
}

inline std::string json_tree_text(const JsonTree& tree) {
  std::string out;
  append_json_node_text(tree, tree.root(), out);
  return out;
}

}  // namespace tokenizer::testing
