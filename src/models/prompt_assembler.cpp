#include "models/prompt_assembler.h"

#include <algorithm>

#include "core/error.h"

namespace kvb {
namespace {

const char* noun(Modality m) { return m == kVideo ? "video" : "image"; }

}  // namespace

std::vector<int64_t> expand_placeholders(const std::vector<int64_t>& raw, const std::vector<int64_t>& pad_ids,
                         const std::vector<MediaTokens>& media, PreparedPrompt& p) {
  auto is_pad = [&](int64_t id) { return std::find(pad_ids.begin(), pad_ids.end(), id) != pad_ids.end(); };
  const auto pads = std::count_if(raw.begin(), raw.end(), is_pad);
  if (pads != static_cast<int64_t>(media.size())) {
    const bool images = std::all_of(media.begin(), media.end(), [](const MediaTokens& m) { return m.modality == kImage; });
    const bool videos = !media.empty() && std::all_of(media.begin(), media.end(), [](const MediaTokens& m) { return m.modality == kVideo; });
    KVB_FAIL("the messages hold {} {} but the rendered prompt has {} placeholders for them (is a placeholder such as "
             "'<image>' written in the text?)",
             media.size(), images ? "images" : videos ? "videos" : "media items", pads);
  }
  std::vector<int64_t> ids, modality;
  size_t next = 0;
  for (int64_t id : raw) {
    if (!is_pad(id)) {
      ids.push_back(id);
      modality.push_back(kText);
      continue;
    }
    const MediaTokens& m = media[next++];
    KVB_CHECK(m.pad_id == id, "the rendered prompt has a placeholder (token {}) where the messages have {} {} (token {})",
              id, m.modality == kImage ? "an" : "a", noun(m.modality), m.pad_id);
    const auto at = static_cast<int64_t>(ids.size());
    for (int64_t g = 0; g < m.groups; ++g) {
      const int64_t tail = g + 1 == m.groups ? m.tail_tokens : 0;
      p.media.push_back({at + g * m.group_tokens, at + (g + 1) * m.group_tokens + tail, static_cast<uint8_t>(m.modality)});
    }
    const int64_t n = m.groups * m.group_tokens + m.tail_tokens;
    ids.insert(ids.end(), n, id);
    modality.insert(modality.end(), n, m.modality);
  }
  p.ids = at::tensor(ids, at::kLong);
  p.modality = at::tensor(modality, at::kLong).to(at::kByte);
  return ids;
}

void scatter_features(at::Tensor& embeddings, const at::Tensor& ids, int64_t pad_id, const at::Tensor& features) {
  const at::Tensor mask = ids.eq(pad_id).to(embeddings.device());
  embeddings.index_put_({mask}, features.reshape({-1, features.size(-1)}).to(embeddings.scalar_type()));
}

}  // namespace kvb
