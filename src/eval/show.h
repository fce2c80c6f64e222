#pragma once
// `kvbench show`: one sample of one cell next to Full's, read from the result store. The runner
// records each sample's prompt as text with media placeholders (prompt_text), so a result can
// be read without the dataset at hand.
#include <string>
#include <vector>

#include "core/prompt.h"
#include "eval/table.h"

namespace kvb {

// "[user] <image: photo.jpg> What is ...": one line per message, media by label (else path).
std::string prompt_text(const std::vector<Message>& messages);

// Markdown: per benchmark holding a record `id` in `cell`, the prompt and a table of the
// answer, generation, score and timings for Full and the cell. `model` empty: the first.
// Unknown model/cell or no such record is a UsageError naming what exists.
std::string show_sample(const Experiment& exp, const RecordSource& source, const std::string& cell,
                        const std::string& id, const std::string& model);

}  // namespace kvb
