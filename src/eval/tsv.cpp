#include "eval/tsv.h"

#include "core/error.h"

namespace kvb {

TsvReader::TsvReader(const std::string& path) : path_(path), in_(path, std::ios::binary) {
  KVB_CHECK(in_.good(), "cannot open '{}'", path);
  KVB_CHECK(read_record(header_), "'{}' is empty (no header line)", path);
  for (size_t i = 0; i < header_.size(); ++i) {
    KVB_CHECK(!columns_.count(header_[i]), "'{}': column '{}' appears twice in the header", path, header_[i]);
    columns_[header_[i]] = i;
  }
}

size_t TsvReader::column(const std::string& name) const {
  auto it = columns_.find(name);
  KVB_CHECK(it != columns_.end(), "'{}': no column '{}'", path_, name);
  return it->second;
}

bool TsvReader::next(std::vector<std::string>& cells) {
  if (!read_record(cells)) return false;
  KVB_CHECK(cells.size() <= header_.size(), "'{}' line {}: {} cells but the header has {} columns", path_,
            record_line_, cells.size(), header_.size());
  cells.resize(header_.size());
  return true;
}

// One record; blank lines are skipped as pandas does.
bool TsvReader::read_record(std::vector<std::string>& cells) {
  std::streambuf* sb = in_.rdbuf();
  for (;;) {
    cells.assign(1, std::string());
    record_line_ = line_;
    int c = sb->sgetc();
    if (c == std::char_traits<char>::eof()) return false;
    bool quoted = false, at_field_start = true, any = false;
    for (;;) {
      c = sb->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        KVB_CHECK(!quoted, "'{}': quoted field opened on line {} never closes", path_, record_line_);
        break;
      }
      const char ch = static_cast<char>(c);
      if (quoted) {
        if (ch == '"') {
          if (sb->sgetc() == '"') {
            sb->sbumpc();
            cells.back() += '"';
          } else {
            quoted = false;
          }
        } else {
          if (ch == '\n') ++line_;
          cells.back() += ch;
        }
        continue;
      }
      if (ch == '\r' || ch == '\n') {
        if (ch == '\r' && sb->sgetc() == '\n') sb->sbumpc();
        ++line_;
        break;
      }
      any = true;
      if (ch == '\t') {
        cells.emplace_back();
        at_field_start = true;
        continue;
      }
      if (ch == '"' && at_field_start) {
        quoted = true;
        at_field_start = false;
        continue;
      }
      at_field_start = false;
      cells.back() += ch;
    }
    if (any || cells.size() > 1 || !cells[0].empty()) return true;
  }
}

}  // namespace kvb
