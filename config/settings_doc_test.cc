// docs/configuration.md and the settings tables must agree: every key of the
// tables has a row in the document's key table, with its variable, its
// options and the programs that read it, and a paragraph of its own; every
// row of the document is a key of the tables.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "config/settings_table.h"

namespace config {
namespace {

struct DocRow {
  std::string read_by, env, option;
};

std::string ReadDoc() {
  std::ifstream in(CONFIGURATION_MD);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line.substr(1));
  for (std::string cell; std::getline(in, cell, '|');) cells.push_back(cell);
  return cells;
}

// The rows of the table under "## All keys", by key.
std::map<std::string, DocRow> KeyTable(const std::string& doc) {
  std::map<std::string, DocRow> rows;
  size_t start = doc.find("\n## All keys\n");
  if (start == std::string::npos) return rows;
  std::stringstream in(doc.substr(start));
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("|")) {
      if (in_table) break;
      continue;
    }
    in_table = true;
    if (!line.starts_with("| `")) continue;  // header and rule
    std::vector<std::string> cells = Cells(line);
    if (cells.size() < 6) {
      ADD_FAILURE() << "short row: " << line;
      continue;
    }
    size_t open = cells[0].find('`'), close = cells[0].find('`', open + 1);
    std::string key = cells[0].substr(open + 1, close - open - 1);
    EXPECT_FALSE(rows.contains(key)) << key << " twice";
    rows[key] = {cells[1], cells[4], cells[5]};
  }
  return rows;
}

std::string LongOption(const char* names) {
  std::string option(names);
  return option.substr(option.find("--"));
}

template <typename Settings>
void ExpectDocumented(std::span<const Setting<Settings>> table,
                      const std::map<std::string, DocRow>& rows,
                      const std::string& doc, const char* reader) {
  for (const Setting<Settings>& row : table) {
    SCOPED_TRACE(row.key);
    auto it = rows.find(row.key);
    ASSERT_NE(it, rows.end()) << "key missing from docs/configuration.md";
    const DocRow& doc_row = it->second;
    EXPECT_NE(doc_row.read_by.find(reader), std::string::npos);
    if (row.env) {
      EXPECT_NE(doc_row.env.find(std::string("`") + row.env + "`"),
                std::string::npos);
    } else if (!row.flag_value) {
      EXPECT_NE(doc_row.env.find("none"), std::string::npos);
    }
    if (row.option) {
      EXPECT_NE(doc_row.option.find("`" + LongOption(row.option) + "`"),
                std::string::npos);
    }
    // Its meaning: a paragraph that starts with the key in bold, alone
    // (**`key`**) or with its value's form (**`key TAG HOST...`**).
    std::string bold = std::string("**`") + row.key;
    EXPECT_TRUE(doc.find(bold + "`**") != std::string::npos ||
                doc.find(bold + " ") != std::string::npos);
  }
}

TEST(SettingsDocTest, EveryKeyIsDocumented) {
  std::string doc = ReadDoc();
  ASSERT_FALSE(doc.empty()) << CONFIGURATION_MD;
  std::map<std::string, DocRow> rows = KeyTable(doc);
  ExpectDocumented(ServerSettingTable(), rows, doc, "server");
  ExpectDocumented(ClientSettingTable(), rows, doc, "movers");
}

TEST(SettingsDocTest, EveryDocumentedKeyIsInTheTables) {
  std::map<std::string, DocRow> rows = KeyTable(ReadDoc());
  EXPECT_GT(rows.size(), 30u);
  for (const auto& [key, row] : rows) {
    const ServerSetting* server = FindSetting(ServerSettingTable(), key);
    const ClientSetting* client = FindSetting(ClientSettingTable(), key);
    EXPECT_TRUE(server || client) << key << " is in no settings table";
    // The programs named are those that read it.
    EXPECT_EQ(row.read_by.find("server") != std::string::npos, !!server) << key;
    EXPECT_EQ(row.read_by.find("movers") != std::string::npos, !!client) << key;
    std::string env = server && server->env   ? server->env
                      : client && client->env ? client->env
                                              : "";
    if (env.empty()) {
      EXPECT_NE(row.env.find("none"), std::string::npos) << key;
    }
  }
}

}  // namespace
}  // namespace config
