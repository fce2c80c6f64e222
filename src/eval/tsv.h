#pragma once
// Streaming reader for the TSV files VLMEvalKit publishes (pandas.read_csv(sep='\t') dialect:
// '"' quotes a field, "" inside quotes is one quote, quoted fields may hold tabs and newlines,
// blank lines are skipped). Records are read one at a time so multi-GB files with base64 images
// never sit in memory whole.
#include <cstddef>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace kvb {

class TsvReader {
 public:
  // Opens `path` and reads the header; errors name the file.
  explicit TsvReader(const std::string& path);

  // Reads the next record into `cells` (resized to the header width: missing trailing cells are
  // empty). False at end of file. A record with more cells than the header is an error.
  bool next(std::vector<std::string>& cells);

  bool has_column(const std::string& name) const { return columns_.count(name) > 0; }
  size_t column(const std::string& name) const;  // throws when absent
  const std::string& cell(const std::vector<std::string>& cells, const std::string& name) const {
    return cells[column(name)];
  }
  const std::vector<std::string>& header() const { return header_; }
  // 1-based line of the file where the last record began.
  size_t record_line() const { return record_line_; }

 private:
  bool read_record(std::vector<std::string>& cells);

  std::string path_;
  std::ifstream in_;
  std::vector<std::string> header_;
  std::map<std::string, size_t> columns_;
  size_t line_ = 1, record_line_ = 0;
};

}  // namespace kvb
