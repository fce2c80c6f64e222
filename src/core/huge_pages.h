#pragma once
// Large weight buffers on 2 MB pages where the kernel allows it (transparent huge pages in
// "madvise" mode, Debian's default): a decode step streams every weight once, and on 4 KB pages
// a 0.6 GB lm_head alone walks ~150k TLB entries per step.
#include <cstddef>

namespace kvb {

// Asks for huge pages over the 2 MB-aligned part of [p, p + bytes). Call it before the buffer is
// first written: pages already touched stay small. No-op for small buffers and where the kernel
// refuses (the request is advice, never an error).
void advise_huge_pages(void* p, size_t bytes);

}  // namespace kvb
